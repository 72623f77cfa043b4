"""The case list: filters, search by reference, keyset pages (cases.listing); counsellors and supervisors.

Only what the selector returns is shown: codes, statuses, dates, who holds the case; never
content, so the list is not a content read. A supervisor who searches for the exact
reference of a case outside their lines is offered break glass (cases.views.supervision).
"""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cases.models import Case, CaseStatus
from cases.models.choices import RiskLevel
from cases.selectors.access import staff_line_ids
from cases.selectors.lists import CaseFilters, case_list_page
from helpline.access import role_required
from helpline.models import Role, Staff


def _filter_choices(user) -> dict:
    """The user's lines and, for a supervisor, the counsellors of those lines: one query.

    Every member of the user's lines, read from the membership table with the line's and the
    member's names; the user is a member of each of their lines, so the lines come out too.
    """
    staff = user.staff
    memberships = (
        Staff.lines.through.objects.filter(helpline_id__in=staff_line_ids(staff))
        .values_list("helpline_id", "helpline__name", "staff_id", "staff__user__username", "staff__role")
        .order_by("helpline__name", "staff__user__username")
    )
    lines, counsellors = {}, {}
    for line_id, line_name, staff_id, username, role in memberships:
        lines[line_id] = line_name
        if role in (Role.COUNSELLOR, Role.SUPERVISOR):
            counsellors[staff_id] = username
    return {
        "lines": list(lines.items()),
        "counsellors": sorted(counsellors.items(), key=lambda item: item[1]) if staff.role == Role.SUPERVISOR else [],
        "statuses": CaseStatus.choices,
        "risks": RiskLevel.choices,
    }


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
@require_GET
@never_cache
def case_list(request):
    filters = CaseFilters.from_query(request.GET)
    page = case_list_page(request.user, filters=filters, cursor=request.GET.get("after"))
    outside_reach = None
    if (
        filters.reference
        and not page.items
        and request.user.staff.role == Role.SUPERVISOR
        and Case.objects.filter(reference=filters.reference).exists()
    ):
        outside_reach = filters.reference
    next_query = None
    if page.next_cursor:
        next_query = {**filters.as_query(), "after": page.next_cursor}
    context = {
        "page": page,
        "filters": filters,
        "next_query": next_query,
        "outside_reach": outside_reach,
        **_filter_choices(request.user),
    }
    return render(request, "cases/list.html", context)
