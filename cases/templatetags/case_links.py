"""Template helpers of the cases pages.

- ``{{ case|case_url }}``: the address of a case's page, for lists that show many cases;
- ``{% case_supervision_actions case %}``: on the case page, asking for closure, the request
  waiting for a decision, reassigning, and the notice for a supervisor who broke the glass.
"""

from django import template
from django.utils import timezone

from cases import links
from cases.models import ApprovalStatus, BreakGlassAccess, CaseStatus
from cases.services.approvals import CLOSABLE_STATUSES
from helpline.access import role_of, supervises_line
from helpline.models import Role

register = template.Library()


@register.filter
def case_url(case) -> str:
    return links.case_url(case)


@register.inclusion_tag("cases/supervision/case_actions.html", takes_context=True)
def case_supervision_actions(context, case) -> dict:
    user = context["request"].user
    role = role_of(user)
    staff = user.staff if role in (Role.COUNSELLOR, Role.SUPERVISOR) else None
    of_line = staff is not None and role == Role.SUPERVISOR and supervises_line(staff, case.line_id)
    pending = None
    if case.status == CaseStatus.PENDING_CLOSURE:
        pending = case.approvals.filter(status=ApprovalStatus.PENDING).select_related("requested_by__user").first()
    glass = None
    if role == Role.SUPERVISOR and not of_line:
        glass = BreakGlassAccess.objects.filter(case=case, staff=staff, expires_at__gt=timezone.now()).first()
    return {
        "case": case,
        "can_request_closure": staff is not None and case.status in CLOSABLE_STATUSES and case.shredded_at is None,
        "pending": pending,
        "can_decide": of_line and pending is not None and pending.requested_by_id != staff.pk,
        "can_reassign": of_line,
        "glass": glass,
    }
