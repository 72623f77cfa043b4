"""Who may see which case: the one rule, as a queryset filter (B's lists and every case page reuse it).

- a counsellor sees the cases of their lines assigned to them, opened by them, or linked
  to a contact they handled;
- a supervisor sees every case of their lines, and a case of another line they opened by
  break glass (a stated reason, audited: cases.services.supervision) while that access lasts;
- administrators and authority users see none (they configure, or receive referrals).
"""

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cases.models import Case, ContactWrapup
from helpline.access import role_of
from helpline.models import Role

# The id lists of the permission rule, as constant SQL over one or two tables each. Each names
# only its own tables, never the outer query's, so it stays right when Django nests the case
# queryset as a subquery (and re-aliases the outer tables); the parameters are always bound.
# Table and column names are Django's defaults for these models (the visibility tests run them).
_LINE_IDS = 'SELECT "helpline_id" FROM "helpline_staff_lines" WHERE "staff_id" = %s'
_HANDLED_CASE_IDS = (
    'SELECT l."case_id" FROM "cases_casecontact" l JOIN "cases_contactwrapup" w ON w."id" = l."wrapup_id"'
    ' WHERE w."counsellor_id" = %s'
)
_BREAK_GLASS_CASE_IDS = 'SELECT "case_id" FROM "cases_breakglassaccess" WHERE "staff_id" = %s AND "expires_at" > %s'


def _id_list(sql: str, params: list) -> RawSQL:
    return RawSQL(sql, params, output_field=BigIntegerField())  # noqa: S611 (constant SQL, bound parameters)


def staff_line_ids(staff) -> RawSQL:
    """The ids of the staff member's lines: the membership table alone, no join."""
    return _id_list(_LINE_IDS, [staff.pk])


def cases_visible_to(user) -> QuerySet[Case]:
    """The cases ``user`` may see, as one predicate over uncorrelated id lists.

    Each list (the user's lines, the cases of contacts they handled, their live break-glass
    grants) is a subquery the planner runs once and hashes, so a list page keeps its backward
    scan of the ``(created_at, id)`` index and tests each row against a hash; and each is a
    short constant SQL text, which costs Django nothing to compile (a nested queryset costs
    more than the query itself takes in PostgreSQL; bench/cases.py).
    """
    role = role_of(user)
    if role == Role.COUNSELLOR:
        staff = user.staff
        return Case.objects.filter(line_id__in=staff_line_ids(staff)).filter(
            Q(counsellor_id=staff.pk) | Q(created_by_id=staff.pk) | Q(pk__in=_id_list(_HANDLED_CASE_IDS, [staff.pk]))
        )
    if role == Role.SUPERVISOR:
        staff = user.staff
        glass = _id_list(_BREAK_GLASS_CASE_IDS, [staff.pk, timezone.now()])
        return Case.objects.filter(Q(line_id__in=staff_line_ids(staff)) | Q(pk__in=glass))
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
