"""The case list: filters, search by reference, keyset pages, permission in SQL, constant queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseStatus
from cases.pagination import cursor_encode
from cases.selectors import lists
from cases.selectors.lists import CaseFilters, case_list_page, cases_filtered
from tests.cases.supervision_world import case_make
from tests.helpline.console.conftest import client_for


def refs(page) -> list[str]:
    return [case.reference for case in page.items]


def all_pages(user, filters, size) -> list[Case]:
    """Every case the list shows over all its pages, in order (as Case instances, to compare)."""
    seen, cursor = [], None
    while True:
        page = case_list_page(user, filters=filters, cursor=cursor, size=size)
        seen.extend(Case.objects.get(pk=row.id) for row in page.items)
        if not page.has_next:
            return seen
        cursor = page.next_cursor


def test_who_sees_which_cases(
    demo_line, other_line, counsellor, colleague, supervisor, far_supervisor, admin_user, authority
):
    mine = case_make(line=demo_line, counsellor=counsellor)
    theirs = case_make(line=demo_line, counsellor=colleague)
    elsewhere = case_make(line=other_line, counsellor=None, created_by=far_supervisor)
    filters = CaseFilters()
    assert set(all_pages(counsellor, filters, 10)) == {mine}
    assert set(all_pages(colleague, filters, 10)) == {theirs}
    assert set(all_pages(supervisor, filters, 10)) == {mine, theirs}
    assert set(all_pages(far_supervisor, filters, 10)) == {elsewhere}
    assert all_pages(admin_user, filters, 10) == []
    assert all_pages(authority, filters, 10) == []


def test_each_filter_narrows(demo_line, counsellor, colleague, supervisor):
    now = timezone.now()
    sextortion = case_make(line=demo_line, counsellor=counsellor, risk="high", categories=["violence.ocsea.sextortion"])
    bullying = case_make(
        line=demo_line,
        counsellor=colleague,
        status=CaseStatus.IN_PROGRESS,
        categories=["peer.bullying"],
        created_at=now - timedelta(days=10),
    )
    lookalike = case_make(line=demo_line, counsellor=colleague, categories=["violence.ocseaX"])
    overdue = case_make(line=demo_line, counsellor=counsellor, risk="imminent", created_at=now - timedelta(days=3))

    def query(**values):
        return set(cases_filtered(supervisor, CaseFilters.from_query(values)))

    assert query(status="in_progress") == {bullying}
    assert query(risk="high") == {sextortion}
    assert query(category="violence.ocsea") == {sextortion}  # descendants, not look-alikes
    assert query(category="violence.ocsea.sextortion") == {sextortion}
    assert query(category="violence.ocseaX") == {lookalike}
    assert query(counsellor=str(colleague.staff.pk)) == {bullying, lookalike}
    assert query(line=str(demo_line.pk)) == {sextortion, bullying, lookalike, overdue}
    day = (now - timedelta(days=10)).date().isoformat()
    assert query(**{"from": day, "to": day}) == {bullying}
    assert query(overdue="1") == {overdue}
    assert query(q=sextortion.reference.lower().replace("-", " ")) == {sextortion}
    assert query(q="not a reference") == set()
    # Nonsense values are ignored, not errors.
    assert len(query(status="deleted", risk="x", counsellor="abc", **{"from": "yesterday"})) == 4


def test_filters_never_widen_what_the_user_sees(demo_line, other_line, counsellor, far_supervisor):
    case_make(line=other_line, counsellor=None, created_by=far_supervisor)
    page = case_list_page(counsellor, filters=CaseFilters.from_query({"line": str(other_line.pk)}))
    assert page.items == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    count=st.integers(min_value=0, max_value=13), size=st.integers(min_value=1, max_value=5), same_time=st.booleans()
)
def test_pages_cover_every_case_once_in_order(demo_line, counsellor, supervisor, count, size, same_time):
    """Walking the cursors visits each case exactly once, newest first, even when times tie."""
    from django.db import transaction

    with transaction.atomic():
        at = timezone.now()
        made = [
            case_make(line=demo_line, counsellor=counsellor, created_at=at if same_time else at - timedelta(minutes=n))
            for n in range(count)
        ]
        seen = all_pages(supervisor, CaseFilters(), size)
        assert [case.pk for case in seen] == [
            case.pk for case in sorted(made, key=lambda case: (case.created_at, case.pk), reverse=True)
        ]
        transaction.set_rollback(True)


def test_a_forged_or_broken_cursor_is_the_first_page(demo_line, counsellor, supervisor):
    cases = [case_make(line=demo_line, counsellor=counsellor) for _ in range(3)]
    first = case_list_page(supervisor, filters=CaseFilters(), size=2)
    for cursor in ("", "!!!", "W10", cursor_encode(["yesterday", 1]), cursor_encode([1, 2, 3])):
        assert refs(case_list_page(supervisor, filters=CaseFilters(), cursor=cursor, size=2)) == refs(first)
    assert len(cases) == 3


def test_page_one_and_a_deep_page_cost_the_same_queries(demo_line, counsellor, supervisor, monkeypatch):
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    now = timezone.now()
    made = [case_make(line=demo_line, counsellor=counsellor, created_at=now - timedelta(minutes=n)) for n in range(9)]
    client = client_for(supervisor)
    client.get("/cases/")  # the session and the user, as for any page after the first
    counts, shown, query = [], [], {"status": "open"}
    while query is not None:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/cases/", query)
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
        assert not any("OFFSET" in item["sql"] for item in queries.captured_queries)
        shown.extend(Case.objects.get(pk=row.id) for row in response.context["page"].items)
        query = response.context["next_query"]
    assert len(counts) == 5 and len(set(counts)) == 1, counts
    assert shown == made


def test_the_list_page_links_to_the_next_page_with_its_filters(demo_line, counsellor, supervisor):
    for _ in range(3):
        case_make(line=demo_line, counsellor=counsellor, risk="low")
    page = client_for(supervisor).get("/cases/", {"risk": "low"})
    assert page.status_code == 200
    assert page.content.count(b'class="case-row"') == 3
    assert lists.PAGE_SIZE > 3 and b'rel="next"' not in page.content


@pytest.mark.parametrize("who", ["admin_user", "authority"])
def test_administrators_and_authorities_get_no_case_list(request, who):
    assert client_for(request.getfixturevalue(who)).get("/cases/").status_code == 403


def test_a_row_carries_what_the_page_shows_and_no_model(demo_line, counsellor, supervisor):
    case = case_make(line=demo_line, counsellor=counsellor, risk="high")
    (row,) = case_list_page(supervisor, filters=CaseFilters()).items
    assert not isinstance(row, Case)
    assert (row.id, row.reference, row.status, row.risk_level) == (case.pk, case.reference, case.status, "high")
    assert (row.line_name, row.counsellor_name) == (demo_line.name, counsellor.get_username())
    page = client_for(supervisor).get("/cases/")
    assert f'href="/cases/{case.pk}/"'.encode() in page.content
    assert str(row.risk_label).encode() in page.content and demo_line.name.encode() in page.content


def test_the_permission_rule_names_the_tables_of_the_models():
    """The rule's id lists are constant SQL (cheap to compile); they must name the models' real tables."""
    from cases.models import BreakGlassAccess, CaseContact, ContactWrapup
    from cases.selectors import access
    from helpline.models import Staff

    assert f'"{Staff.lines.through._meta.db_table}"' in access._LINE_IDS
    assert f'"{CaseContact._meta.db_table}"' in access._HANDLED_CASE_IDS
    assert f'"{ContactWrapup._meta.db_table}"' in access._HANDLED_CASE_IDS
    assert f'"{BreakGlassAccess._meta.db_table}"' in access._BREAK_GLASS_CASE_IDS
