"""The resource list from the wrap-up: the pane beside a conversation in wrap-up, search results, and
"signposted" recorded once on the contact by the counsellor holding it."""

import pytest

from helpline.audit.models import AuditEvent
from helpline.panes import console_panes_for
from referrals import actions
from referrals.models import Signposting
from tests.cases.conftest import webchat_in_wrapup

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended(counsellor, demo_line):
    return webchat_in_wrapup(counsellor, demo_line)


def test_the_pane_shows_beside_a_conversation_in_wrap_up(ended, rf, counsellor):
    request = rf.get("/console/")
    request.user = counsellor
    [pane] = [pane for pane in console_panes_for(request, ended) if pane["name"] == "resources"]
    assert pane["context"]["contact_id"] == ended.pk


def test_searching_and_signposting_records_it_once(ended, counsellor, verified_client, police):
    client = verified_client(counsellor)
    page = client.get(
        f"/referrals/resources/?need=violence.ocsea.sextortion&region=KE-047&contact={ended.pk}",
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Nairobi police" in page and f"/referrals/signpost/{ended.pk}/{police.pk}/" in page
    for _ in range(2):
        response = client.post(f"/referrals/signpost/{ended.pk}/{police.pk}/", headers={"HX-Request": "true"})
        assert response.status_code == 200 and "Signposted: Nairobi police" in response.content.decode()
    assert Signposting.objects.filter(contact=ended, agency=police).count() == 1
    assert AuditEvent.objects.filter(action=actions.CONTACT_SIGNPOSTED, record_id=str(ended.pk)).count() == 1


def test_a_colleague_cannot_signpost_on_a_conversation_they_do_not_hold(ended, colleague, verified_client, police):
    response = verified_client(colleague).post(f"/referrals/signpost/{ended.pk}/{police.pk}/")
    assert response.status_code == 404
    assert not Signposting.objects.exists()
