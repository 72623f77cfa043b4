"""A supervisor's writes over caseloads: reassigning a case, and break-glass access to one outside their lines.

Break glass: a supervisor who must act on a case of another line (the child moved, the
line's own supervisors cannot be reached) opens it by reference and says why. The access
lasts ``BREAK_GLASS_HOURS``, is audited with the reason, and shows on the case's timeline
for everyone who can see the case. It grants reading and the supervisor's usual writes,
never deciding the case's approvals (those stay with the line's own supervisors).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import actions
from cases.errors import CaseError
from cases.models import BreakGlassAccess, Case
from cases.references import reference_normalise
from cases.selectors.access import cases_visible_to
from helpline.access import supervises_line
from helpline.audit.services import audit_record
from helpline.models import Role, Staff
from helpline.todo import console_todo_changed

BREAK_GLASS_HOURS = 8
MIN_REASON_LENGTH = 10
MAX_REASON_LENGTH = 500


class SupervisionError(CaseError):
    """Refused; the message is safe to show."""


@transaction.atomic
def case_break_glass(*, actor: Staff, reference: str, reason: str, request=None) -> BreakGlassAccess:
    """Open the case ``reference`` outside the supervisor's lines, for a stated reason."""
    if actor.role != Role.SUPERVISOR:
        raise Case.DoesNotExist
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise SupervisionError(
            _("Say why you need this case (at least %(count)d characters).") % {"count": MIN_REASON_LENGTH}
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise SupervisionError(_("The reason is too long."))
    normalised = reference_normalise(reference or "")
    case = Case.objects.filter(reference=normalised).first() if normalised else None
    if case is None:
        raise Case.DoesNotExist
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        case=case, staff=actor, reason=reason, expires_at=now + timedelta(hours=BREAK_GLASS_HOURS)
    )
    audit_record(
        action=actions.CASE_BREAK_GLASS,
        actor=actor.user,
        record=case,
        request=request,
        reason=reason,
        details={"line": case.line.slug, "hours": BREAK_GLASS_HOURS},
    )
    return access


def reassignable_to(case: Case):
    """Counsellors and supervisors of the case's line."""
    return Staff.objects.filter(lines=case.line_id, role__in=[Role.COUNSELLOR, Role.SUPERVISOR], user__is_active=True)


@transaction.atomic
def case_reassign(*, actor: Staff, case: Case, to_staff: Staff) -> Case:
    """Give ``case`` to another counsellor of its line (a supervisor of that line only), audited."""
    locked = cases_visible_to(actor.user).select_for_update(of=("self",)).filter(pk=case.pk).first()
    if locked is None or not supervises_line(actor, locked.line_id):
        raise Case.DoesNotExist
    if not reassignable_to(locked).filter(pk=to_staff.pk).exists():
        raise SupervisionError(_("That person does not work on this case's line."))
    before = locked.counsellor_id
    if before == to_staff.pk:
        return locked
    locked.counsellor = to_staff
    locked.save(update_fields=["counsellor", "updated_at"])
    audit_record(
        action=actions.CASE_REASSIGNED,
        actor=actor.user,
        record=locked,
        subject=to_staff.user,
        details={"from_staff": before, "to_staff": to_staff.pk},
    )
    # What waits for the case's owner (an agency's question) moves with it: both lists look again now.
    console_todo_changed(staff_ids=[staff for staff in (before, to_staff.pk) if staff is not None])
    return locked
