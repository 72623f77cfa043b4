"""What the SOP's ``notify`` and ``offer`` proposals become: a notice on the line's supervisors' alerts (live,
and by e-mail for on-call, without content) that a supervisor marks seen, and the Report Remove hand-off
link for the counsellor to give the child (only an age range and a random reference leave, through the
IWF transport against a stand-in on 127.0.0.1). Never a notice or an offer for a caregiver recorded as the
alleged perpetrator, through the whole path."""

import pytest
from django.core import mail

from helpline.audit.models import AuditEvent
from referrals.models import Notice, Offer
from referrals.selectors import steps_timeline
from referrals.services.agencies import agency_update
from referrals.services.events import ReferralError
from referrals.services.referrals import referral_consent_record, referrals_propose
from referrals.services.steps import offer_link_obtain
from referrals.sop.services import sop_import
from tests.cases.conftest import staff_of
from tests.conftest import login_verified
from tests.integrations.iwf.conftest import CODES, USERNAME, iwf_stand_in_start
from tests.referrals.conftest import PROTECTED, raw_column, sextortion_case

pytestmark = pytest.mark.django_db

SUPERVISOR_EMAIL = "supervisor@helpline.example"


@pytest.fixture
def iwf_stand_in(fake_http):
    return iwf_stand_in_start(fake_http)


@pytest.fixture
def iwf(agencies, iwf_stand_in):
    """The directory's IWF agency delivering through the IWF transport to the stand-in."""
    return agency_update(
        actor=None,
        agency=agencies["iwf"],
        transport="iwf",
        transport_config={"base_url": iwf_stand_in.url, "username": USERNAME, **CODES, "reporter": "anonymous"},
        secrets={"password": iwf_stand_in.password},
    )


@pytest.fixture
def emails(supervisor, far_supervisor):
    supervisor.email = SUPERVISOR_EMAIL
    supervisor.save()
    far_supervisor.email = "far@other.example"
    far_supervisor.save()


def imagery_case(counsellor, demo_line, **values):
    """A 13-15-year-old's own images passed on: the demo SOP offers Report Remove."""
    return sextortion_case(
        counsellor, demo_line, categories=["violence.ocsea.self_generated"], risk_level="medium", **values
    )


# --- notify -----------------------------------------------------------------------------------------


def test_a_notice_reaches_the_lines_supervisors_alerts_once_and_a_supervisor_marks_it_seen(
    case, supervisor, far_supervisor, counsellor, client
):
    referrals_propose(case_id=case.pk)
    referrals_propose(case_id=case.pk)  # evaluated again: still one notice
    [notice] = Notice.objects.filter(case=case)
    assert (notice.rule_id, notice.notify, notice.sop_version) == ("sextortion-high-risk", ["supervisors"], 1)
    assert AuditEvent.objects.filter(action="notice.raised").count() == 1

    page = login_verified(client, supervisor).get("/supervisor/").content.decode()
    assert case.reference in page and "The SOP asks a supervisor to look at this case" in page
    assert not any(text in page for text in PROTECTED)
    alerts = client.get("/supervisor/alerts/").content.decode()
    assert f'data-notice-id="{notice.pk}"' in alerts

    response = client.post(f"/referrals/notices/{notice.pk}/seen/", headers={"HX-Request": "true"})
    assert response.status_code == 302 and response["Location"] == "/supervisor/alerts/"
    assert case.reference not in client.get("/supervisor/alerts/").content.decode()
    notice.refresh_from_db()
    assert notice.seen_at is not None and notice.seen_by.user == supervisor
    audit = AuditEvent.objects.get(action="notice.seen")
    assert audit.actor_id == supervisor.pk

    titles = [entry.title for entry in steps_timeline(case)]
    assert titles == ["SOP notice for the line's supervisors", "SOP notice seen by a supervisor"]
    plan = login_verified(client, counsellor).get(f"/referrals/case/{case.pk}/").content.decode()
    assert "Alerted: the line&#x27;s supervisors" in plan and "Seen by supervisor" in plan


def test_only_a_supervisor_of_the_line_sees_or_marks_a_notice(case, far_supervisor, counsellor, client):
    referrals_propose(case_id=case.pk)
    notice = Notice.objects.get(case=case)
    far = login_verified(client, far_supervisor)
    assert case.reference not in far.get("/supervisor/alerts/").content.decode()
    assert far.post(f"/referrals/notices/{notice.pk}/seen/").status_code == 404
    assert login_verified(client, counsellor).post(f"/referrals/notices/{notice.pk}/seen/").status_code == 403
    assert Notice.objects.get(pk=notice.pk).seen_at is None


def test_on_call_is_also_emailed_to_the_lines_supervisors_without_content(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop, emails, django_capture_on_commit_callbacks
):
    # The demo SOP's imminent-danger rule notifies supervisors and on-call.
    case = sextortion_case(counsellor, demo_line, risk_level="imminent")
    with django_capture_on_commit_callbacks(execute=True):
        referrals_propose(case_id=case.pk)
    assert Notice.objects.get(case=case, rule_id="imminent-danger").notify == ["supervisors", "on_call"]
    [email] = mail.outbox
    assert email.to == [SUPERVISOR_EMAIL]  # the line's supervisors only
    assert "imminent-danger" in email.body and "/supervisor/" in email.body
    assert not any(text in email.subject + email.body for text in [*PROTECTED, case.reference])


# --- offer ------------------------------------------------------------------------------------------


def test_the_counsellor_gets_the_report_remove_link_with_only_an_age_range_and_a_reference(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop, iwf, iwf_stand_in, client
):
    case = imagery_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    [offer] = Offer.objects.filter(case=case)
    assert (offer.offer, offer.rule_id, offer.status) == ("report_remove", "self-generated-imagery-minor", "proposed")
    browser = login_verified(client, counsellor)
    plan = browser.get(f"/referrals/case/{case.pk}/").content.decode()
    assert "Offer the child: Report Remove (IWF)" in plan and "Get the Report Remove link" in plan
    assert '<option value="13-15" selected>' in plan  # from the child's age band

    response = browser.post(f"/referrals/offers/{offer.pk}/link/", {"age_range": "13-15"}, follow=True)
    page = response.content.decode()
    [call] = iwf_stand_in.calls("/report-remove")
    body = call.json()
    assert set(body) == {"age_range", "reference"} and body["age_range"] == "13-15"
    assert body["reference"].startswith("RR-") and case.reference not in body["reference"]
    assert not any(text in call.body.decode() for text in PROTECTED)
    token = iwf_stand_in.hand_offs[body["reference"]]
    assert f"{iwf_stand_in.url}/start/{token}" in page and "give it to the child" in page

    offer.refresh_from_db()
    assert offer.status == "ready" and offer.agency.code == "iwf"
    assert token.encode() not in raw_column("referrals_offer", "link", offer.pk)  # sealed
    audit = AuditEvent.objects.get(action="offer.link_obtained")
    assert audit.details["age_range"] == "13-15" and token not in str(audit.details)
    assert [entry.title for entry in steps_timeline(case)] == [
        "Offer to the child proposed by the SOP: Report Remove (IWF)",
        "Link for the child obtained: Report Remove (IWF)",
    ]
    assert token not in str(steps_timeline(case))

    # Asking again does not make a second hand-off; re-evaluating does not offer twice.
    browser.post(f"/referrals/offers/{offer.pk}/link/", {"age_range": "13-15"})
    referrals_propose(case_id=case.pk)
    assert len(iwf_stand_in.calls("/report-remove")) == 1 and Offer.objects.filter(case=case).count() == 1


def test_a_failed_hand_off_is_a_clear_message_and_the_retry_keeps_the_reference(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop, iwf, iwf_stand_in
):
    case = imagery_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    offer = Offer.objects.get(case=case)
    iwf_stand_in.password = "changed"  # the IWF refuses the agency's credentials
    with pytest.raises(Exception, match="refused the agency's credentials") as refused:
        offer_link_obtain(actor=counsellor, offer=offer, age_range="16-17")
    assert iwf_stand_in.password not in str(refused.value)
    reference = Offer.objects.get(pk=offer.pk).reference
    assert reference and Offer.objects.get(pk=offer.pk).status == "proposed"
    iwf_stand_in.password = _password_of(iwf)
    offer_link_obtain(actor=counsellor, offer=Offer.objects.get(pk=offer.pk), age_range="16-17")
    assert [call.json()["reference"] for call in iwf_stand_in.calls("/report-remove")][-1] == reference


def test_an_unreachable_agency_asks_the_counsellor_to_try_again_and_promises_no_retry(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop, iwf, iwf_stand_in
):
    case = imagery_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    offer = Offer.objects.get(case=case)
    iwf_stand_in.server.fail_first(1, "POST", "/report-remove")
    with pytest.raises(ReferralError, match="try again in a moment") as refused:
        offer_link_obtain(actor=counsellor, offer=offer, age_range="16-17")
    assert "Trying again" not in str(refused.value)  # nothing retries on its own: the counsellor asks again
    assert Offer.objects.get(pk=offer.pk).status == "proposed"
    ready = offer_link_obtain(actor=counsellor, offer=Offer.objects.get(pk=offer.pk), age_range="16-17")
    assert ready.status == "ready" and len(iwf_stand_in.calls("/report-remove")) == 2


def _password_of(agency):
    from referrals.services.agencies import agency_secrets

    return agency_secrets(agency)["password"]


def test_no_hand_off_for_a_child_under_13_nor_without_an_iwf_agency(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop, iwf, iwf_stand_in, client
):
    young = imagery_case(counsellor, demo_line, age_band="10-12")
    referrals_propose(case_id=young.pk)
    offer = Offer.objects.get(case=young)
    browser = login_verified(client, counsellor)
    plan = browser.get(f"/referrals/case/{young.pk}/").content.decode()
    assert "for children aged 13 to 17" in plan and "Get the Report Remove link" not in plan
    page = browser.post(f"/referrals/offers/{offer.pk}/link/", {"age_range": "13-15"}, follow=True).content.decode()
    assert "the child&#x27;s age is under 13" in page
    assert not iwf_stand_in.calls("/report-remove")

    agency_update(actor=None, agency=iwf, active=False)
    case = imagery_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    offer = Offer.objects.get(case=case)
    page = browser.post(f"/referrals/offers/{offer.pk}/link/", {"age_range": "13-15"}, follow=True).content.decode()
    assert "No agency is set up to make the Report Remove hand-off" in page
    assert not iwf_stand_in.calls("/report-remove")


def test_only_someone_who_may_see_the_case_gets_the_link(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop, iwf, iwf_stand_in, far_supervisor, client
):
    case = imagery_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    offer = Offer.objects.get(case=case)
    far = login_verified(client, far_supervisor)
    assert far.post(f"/referrals/offers/{offer.pk}/link/", {"age_range": "13-15"}).status_code == 404
    assert not iwf_stand_in.calls("/report-remove")


# --- do not alert offenders, through the whole path -------------------------------------------------

PROTECT_SOP = """\
sop: protect-test
rules:
  - id: caregiver-harm
    when: {perpetrator_is_caregiver: true}
    then:
      - notify: [supervisors, on_call, caregiver]
      - offer: report_remove
      - refer: {agency_kind: social_services, jurisdiction: case}
        consent: required
        consent_by: caregiver
"""


def test_a_caregiver_recorded_as_the_alleged_perpetrator_is_never_notified_nor_asked(
    counsellor,
    supervisor,
    demo_line,
    taxonomy,
    regions,
    agencies,
    iwf,
    iwf_stand_in,
    emails,
    client,
    django_capture_on_commit_callbacks,
):
    from cases.services.people import case_person_add

    sop_import(actor=None, line=demo_line, text=PROTECT_SOP, activate=True)
    case = imagery_case(counsellor, demo_line)
    case_person_add(actor=staff_of(counsellor), case=case, role="alleged_perpetrator", relationship="parent")
    with django_capture_on_commit_callbacks(execute=True):
        referrals_propose(case_id=case.pk)

    notice = Notice.objects.get(case=case)
    assert notice.notify == ["supervisors", "on_call"] and notice.withheld == ["notify.caregiver"]
    assert "not the caregiver" in notice.why
    assert {address for email in mail.outbox for address in email.to} == {SUPERVISOR_EMAIL}
    assert AuditEvent.objects.get(action="notice.raised").details["notify"] == ["supervisors", "on_call"]

    browser = login_verified(client, counsellor)
    plan = browser.get(f"/referrals/case/{case.pk}/").content.decode()
    assert "suggests telling the child" not in plan and "Alerted: the line&#x27;s supervisors" in plan
    assert "caregiver" not in " ".join(entry.title for entry in steps_timeline(case))

    # The referral asks the child, never the caregiver, and refuses consent recorded as the caregiver's.
    [referral] = case.referrals.all()
    assert referral.consent_asked_of == ["child"] and referral.consent_rule == "override_allowed"
    with pytest.raises(Exception, match="alleged perpetrator"):
        referral_consent_record(actor=counsellor, referral=referral, by="caregiver", method="verbal")

    # The offer is the child's: only the age range and a reference reach the IWF.
    offer = Offer.objects.get(case=case)
    browser.post(f"/referrals/offers/{offer.pk}/link/", {"age_range": "13-15"})
    [call] = iwf_stand_in.calls("/report-remove")
    assert set(call.json()) == {"age_range", "reference"}


def test_without_a_perpetrator_caregiver_the_plan_suggests_telling_the_caregiver_but_nobody_is_sent_anything(
    counsellor, demo_line, taxonomy, regions, agencies, emails, client, django_capture_on_commit_callbacks
):
    sop_import(
        actor=None,
        line=demo_line,
        text="sop: tell\nrules:\n  - id: tell\n    when: {risk_at_least: medium}\n    then: [{notify: caregiver}]\n",
        activate=True,
    )
    case = imagery_case(counsellor, demo_line)
    with django_capture_on_commit_callbacks(execute=True):
        referrals_propose(case_id=case.pk)
    assert Notice.objects.get(case=case).notify == ["caregiver"]
    assert not mail.outbox
    plan = login_verified(client, counsellor).get(f"/referrals/case/{case.pk}/").content.decode()
    assert "The SOP suggests telling the child" in plan


# --- review: what an attacker or a careless user tries ----------------------------------------------

ALWAYS_OFFER_SOP = (
    "sop: offer\nrules:\n  - id: offer\n    when: {risk_at_least: medium}\n    then: [{offer: report_remove}]\n"
)


def test_no_hand_off_for_someone_the_case_records_as_18_or_older(
    counsellor, demo_line, taxonomy, regions, agencies, iwf, iwf_stand_in, client
):
    sop_import(actor=None, line=demo_line, text=ALWAYS_OFFER_SOP, activate=True)
    adult = imagery_case(counsellor, demo_line, age_band="18+")
    referrals_propose(case_id=adult.pk)
    offer = Offer.objects.get(case=adult)
    browser = login_verified(client, counsellor)
    plan = browser.get(f"/referrals/case/{adult.pk}/").content.decode()
    assert "Get the Report Remove link" not in plan and "18 or older" in plan
    page = browser.post(f"/referrals/offers/{offer.pk}/link/", {"age_range": "16-17"}, follow=True).content.decode()
    assert "18 or older" in page
    assert not iwf_stand_in.calls("/report-remove")
    assert Offer.objects.get(pk=offer.pk).reference == ""


def test_a_notice_recorded_before_the_caregiver_was_named_the_alleged_perpetrator_stops_suggesting_telling_them(
    counsellor, demo_line, taxonomy, regions, agencies, client
):
    from cases.services.people import case_person_add

    sop_import(
        actor=None,
        line=demo_line,
        text="sop: tell\nrules:\n  - id: tell\n    when: {risk_at_least: medium}\n"
        "    then: [{notify: [supervisors, caregiver]}]\n",
        activate=True,
    )
    case = imagery_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    assert Notice.objects.get(case=case).notify == ["supervisors", "caregiver"]
    case_person_add(actor=staff_of(counsellor), case=case, role="alleged_perpetrator", relationship="parent")
    referrals_propose(case_id=case.pk)  # what the facts' change does (referrals.receivers)
    referrals_propose(case_id=case.pk)

    notice = Notice.objects.get(case=case)
    assert notice.notify == ["supervisors"] and notice.withheld == ["notify.caregiver"]
    assert AuditEvent.objects.filter(action="notice.caregiver_withheld").count() == 1
    plan = login_verified(client, counsellor).get(f"/referrals/case/{case.pk}/").content.decode()
    assert "suggests telling the child" not in plan
    assert "caregiver" not in " ".join(entry.title for entry in steps_timeline(case))


def test_a_link_stored_twice_at_once_is_kept_and_audited_once(
    counsellor, demo_line, taxonomy, regions, agencies, active_sop, iwf, iwf_stand_in
):
    from referrals.services.steps import _offer_link_store

    case = imagery_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    stale = Offer.objects.get(case=case)  # both clicks read the offer before either stored its link
    offer_link_obtain(actor=counsellor, offer=stale, age_range="13-15")
    first = Offer.objects.get(pk=stale.pk)
    _offer_link_store(actor=counsellor, offer=stale, link="https://iwf.example/other")
    again = Offer.objects.get(pk=stale.pk)
    assert again.link_at == first.link_at
    assert AuditEvent.objects.filter(action="offer.link_obtained").count() == 1


def test_an_offer_the_sop_no_longer_makes_is_withdrawn_and_made_again_on_the_audit_trail(
    counsellor, demo_line, taxonomy, regions, agencies
):
    sop_import(actor=None, line=demo_line, text=ALWAYS_OFFER_SOP, activate=True)
    case = imagery_case(counsellor, demo_line)
    referrals_propose(case_id=case.pk)
    offer = Offer.objects.get(case=case)
    quiet = (
        "sop: offer\nrules:\n  - id: quiet\n    when: {risk_at_least: imminent}\n    then: [{notify: supervisors}]\n"
    )
    sop_import(actor=None, line=demo_line, text=quiet, activate=True)
    referrals_propose(case_id=case.pk)
    referrals_propose(case_id=case.pk)
    assert Offer.objects.get(pk=offer.pk).status == "withdrawn"
    [withdrawn] = AuditEvent.objects.filter(action="offer.withdrawn")
    assert withdrawn.details == {"case": case.pk, "rule": "offer", "offer": "report_remove"}
    sop_import(actor=None, line=demo_line, text=ALWAYS_OFFER_SOP, activate=True)
    referrals_propose(case_id=case.pk)
    assert Offer.objects.get(pk=offer.pk).status == "proposed"
    assert AuditEvent.objects.filter(action="offer.proposed").count() == 2
