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
from cases.selectors.lists import CaseFilters, case_list_page
from helpline.access import role_required
from helpline.models import Role, Staff


def _filter_choices(user) -> dict:
    lines = list(user.staff.lines.order_by("name"))
    counsellors = []
    if user.staff.role == Role.SUPERVISOR:
        counsellors = list(
            Staff.objects.filter(lines__in=lines, role__in=[Role.COUNSELLOR, Role.SUPERVISOR])
            .select_related("user")
            .distinct()
            .order_by("user__username")
        )
    return {"lines": lines, "counsellors": counsellors, "statuses": CaseStatus.choices, "risks": RiskLevel.choices}


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
