"""People on a case: edited (identifying fields re-sealed under the case's key) and removed
(recorded with a reason on the timeline, the sealed data kept until retention), audited."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from cases.errors import CaseError
from cases.models import CasePerson
from cases.selectors import case_facts, case_read, case_shareable_content
from cases.services.cases import case_open
from cases.services.people import case_person_add, case_person_remove, case_person_update
from cases.services.supervision import case_break_glass
from cases.services.wrapups import wrapup_finalise
from helpline.audit.models import AuditEvent
from helpline.vault.services import unseal
from tests.cases.conftest import sextortion_values, staff_of
from tests.helpline.console.conftest import client_for

OLD_NAME = "Juma Otieno"
NEW_NAME = "Baraka Mwangi"
HANDLE = "@baraka_k"
REASON = "Entered on the wrong case: he is the cousin in the other file"


@pytest.fixture
def case(wrapup, counsellor):
    wrapup_finalise(actor=staff_of(counsellor), wrapup=wrapup, values=sextortion_values())
    return case_open(actor=staff_of(counsellor), wrapup=wrapup)


@pytest.fixture
def perpetrator(case, counsellor):
    return case_person_add(
        actor=staff_of(counsellor), case=case, role="alleged_perpetrator", relationship="stranger_online", name=OLD_NAME
    )


def _person_row_text(person) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_caseperson WHERE id = %s", [person.pk])
        return repr(cursor.fetchall())


def test_an_edit_reseals_the_identifying_fields_and_changes_the_facts(case, perpetrator, counsellor):
    case_person_update(
        actor=staff_of(counsellor),
        person=perpetrator,
        role="alleged_perpetrator",
        relationship="stranger",
        age=34,
        name=NEW_NAME,
        online_identifiers=HANDLE,
    )
    row = _person_row_text(perpetrator)
    assert NEW_NAME not in row and OLD_NAME not in row and HANDLE not in row
    content = case_read(user=counsellor, case=case)
    (item,) = content.people
    assert (item["name"], item["online_identifiers"]) == (NEW_NAME, [HANDLE])
    assert (item["person"].relationship, item["person"].age_band) == ("stranger", "18+")
    assert item["person"].updated_by == staff_of(counsellor)
    assert case_facts(case)["people"][0]["relationship"] == "stranger"
    event = AuditEvent.objects.get(action="case.person_updated")
    assert set(event.details["facts"]) == {"relationship", "age", "age_band"}
    assert NEW_NAME not in repr(event.details) and OLD_NAME not in repr(event.details)


def test_an_empty_identifying_field_is_cleared(case, perpetrator, counsellor):
    case_person_update(actor=staff_of(counsellor), person=perpetrator, role="alleged_perpetrator", name="")
    perpetrator.refresh_from_db()
    assert perpetrator.name is None
    assert case_read(user=counsellor, case=case).people[0]["name"] == ""


def test_a_removal_needs_a_reason_and_is_on_the_timeline_not_in_the_facts(case, perpetrator, counsellor):
    with pytest.raises(CaseError):
        case_person_remove(actor=staff_of(counsellor), person=perpetrator, reason="  ")
    case_person_remove(actor=staff_of(counsellor), person=perpetrator, reason=REASON)
    content = case_read(user=counsellor, case=case)
    assert content.people == []
    assert [item["reason"] for item in content.removed_people] == [REASON]
    assert case_facts(case)["people"] == [] and not case_facts(case)["perpetrator_is_caregiver"]
    shared = case_shareable_content(case, ["people", "perpetrator"], actor=counsellor, purpose="test")
    assert "people" not in shared
    assert REASON not in _person_row_text(perpetrator)
    event = AuditEvent.objects.get(action="case.person_removed")
    assert event.details == {"person": str(perpetrator.pk), "role": "alleged_perpetrator"}

    page = client_for(counsellor).get(f"/cases/{case.pk}/").content.decode()
    assert "Person removed: Alleged perpetrator" in page and REASON in page
    assert OLD_NAME not in page
    # Soft removal: the sealed name stays, under the case's key, until retention destroys it.
    kept = CasePerson.objects.select_related("case__data_key").get(pk=perpetrator.pk)
    assert unseal(kept, "name") == OLD_NAME
    with pytest.raises(CaseError):  # a removed person is not edited or removed again
        case_person_update(actor=staff_of(counsellor), person=perpetrator, role="other", name="x")
    with pytest.raises(CaseError):
        case_person_remove(actor=staff_of(counsellor), person=perpetrator, reason=REASON)


def test_who_may_edit_and_who_may_remove(
    case, perpetrator, counsellor, colleague, supervisor, far_supervisor, admin_user, authority
):
    """Edit: whoever works on the case. Remove: its counsellor, the person's adder, a supervisor of its line."""
    glass = staff_of(far_supervisor)
    case_break_glass(actor=glass, reference=case.reference, reason="The child called our line about this")
    case_person_update(actor=glass, person=perpetrator, role="alleged_perpetrator", name=NEW_NAME)
    with pytest.raises(PermissionDenied):  # reached by break glass: may read and edit, not remove
        case_person_remove(actor=glass, person=perpetrator, reason=REASON)
    for outsider in (colleague, admin_user, authority):
        staff = getattr(outsider, "staff", None)
        if staff is None:
            continue
        with pytest.raises(PermissionDenied):
            case_person_update(actor=staff, person=perpetrator, role="other")
        with pytest.raises(PermissionDenied):
            case_person_remove(actor=staff, person=perpetrator, reason=REASON)
    added_by_supervisor = case_person_add(actor=staff_of(supervisor), case=case, role="reporter", name="Teacher")
    case_person_remove(actor=staff_of(counsellor), person=added_by_supervisor, reason=REASON)  # the case's counsellor
    case_person_remove(actor=staff_of(supervisor), person=perpetrator, reason=REASON)  # the line's supervisor
    assert not CasePerson.objects.filter(case=case, removed_at__isnull=True).exists()


def test_the_page_edits_and_removes_through_its_forms(case, perpetrator, counsellor, colleague):
    client = client_for(counsellor)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/cases/{case.pk}/people/{perpetrator.pk}/"' in page
    assert f'action="/cases/{case.pk}/people/{perpetrator.pk}/remove/"' in page
    response = client.post(
        f"/cases/{case.pk}/people/{perpetrator.pk}/",
        {"role": "alleged_perpetrator", "relationship": "stranger", "name": NEW_NAME},
    )
    assert response.status_code == 302
    assert case_read(user=counsellor, case=case).people[0]["name"] == NEW_NAME
    # Another counsellor of the line, a forged POST: the case is out of reach.
    forged = client_for(colleague).post(f"/cases/{case.pk}/people/{perpetrator.pk}/remove/", {"reason": REASON})
    assert forged.status_code == 404
    assert client.post(f"/cases/{case.pk}/people/{perpetrator.pk}/remove/", {"reason": ""}).status_code == 302
    assert CasePerson.objects.get(pk=perpetrator.pk).removed_at is None  # no reason, nothing removed
    assert client.post(f"/cases/{case.pk}/people/{perpetrator.pk}/remove/", {"reason": REASON}).status_code == 302
    assert CasePerson.objects.get(pk=perpetrator.pk).removed_at is not None
    assert client.post(f"/cases/{case.pk}/people/{perpetrator.pk}/", {"role": "other"}).status_code == 404
