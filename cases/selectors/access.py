"""Who may see which case: the one rule, as a queryset filter (B's lists and every case page reuse it).

- a counsellor sees the cases of their lines assigned to them, opened by them, or linked
  to a contact they handled;
- a supervisor sees every case of their lines, and a case of another line they opened by
  break glass (a stated reason, audited: cases.services.supervision) while that access lasts;
- administrators and authority users see none (they configure, or receive referrals).
"""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.models import BreakGlassAccess, Case, CaseContact, ContactWrapup
from helpline.access import role_of
from helpline.models import Role


def cases_visible_to(user) -> QuerySet[Case]:
    role = role_of(user)
    if role == Role.COUNSELLOR:
        staff = user.staff
        handled = CaseContact.objects.filter(case=OuterRef("pk"), wrapup__counsellor=staff)
        return Case.objects.filter(line__in=staff.lines.all()).filter(
            Q(counsellor=staff) | Q(created_by=staff) | Exists(handled)
        )
    if role == Role.SUPERVISOR:
        staff = user.staff
        # An id list, not a correlated EXISTS: the planner hashes it once and keeps the list's index scan.
        glass = BreakGlassAccess.objects.filter(staff=staff, expires_at__gt=timezone.now()).values("case_id")
        return Case.objects.filter(Q(line__in=staff.lines.all()) | Q(pk__in=glass))
    return Case.objects.none()


def case_is_visible(user, case) -> bool:
    return cases_visible_to(user).filter(pk=case.pk).exists()


def supervises_case(user, case) -> bool:
    return role_of(user) == Role.SUPERVISOR and user.staff.lines.filter(pk=case.line_id).exists()


def wrapups_writable_by(user) -> QuerySet[ContactWrapup]:
    """Wrap-ups the user may fill in: their own, or ones they log for a colleague."""
    if role_of(user) not in (Role.COUNSELLOR, Role.SUPERVISOR):
        return ContactWrapup.objects.none()
    staff = user.staff
    return ContactWrapup.objects.filter(line__in=staff.lines.all()).filter(Q(counsellor=staff) | Q(recorded_by=staff))
