"""URL reports and the Report Remove hand-off, against an IWF stand-in that checks fields, limits and credentials."""

import json
import logging

import pytest

from helpline.outbox import DeliveryError
from referrals.transports import transport_get
from tests.fakes.http import Reply
from tests.integrations.iwf.conftest import USERNAME
from tests.integrations.referral_documents import (
    CHILD_NAME,
    PROTECTED,
    SECOND_URL,
    URL,
    document_without,
    full_document,
)


@pytest.fixture
def iwf():
    return transport_get("iwf")


def _with_report_remove(age_range="13-17", **child):
    document = document_without("incident.urls")
    document["report_remove"] = {"age_range": age_range, "reference": "RR-7Q2K"}
    document["child"].update(child)
    return document


def test_each_reported_address_is_one_anonymous_url_report(iwf, iwf_request, iwf_stand_in):
    receipt = iwf.deliver(iwf_request())

    assert [report["Reported_URL"] for report in iwf_stand_in.reports] == [URL, SECOND_URL]
    first, second = iwf_stand_in.calls("/report")
    assert first.basic_auth == (USERNAME, iwf_stand_in.password)
    assert first.json()["Reporter_Anonymous"] == "Y" and "Reporter_First_Name" not in first.json()
    assert first.json()["Reporter_Country"] == "KE"
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]
    assert receipt.external_reference == "880001, 880002"
    preview = json.loads(iwf.render(iwf_request()).body)
    assert [call["body"] for call in preview] == [first.json(), second.json()]  # the preview is what was sent


def test_the_child_is_never_named_to_the_iwf(iwf, iwf_request, iwf_stand_in):
    iwf.deliver(
        iwf_request(
            reporter="named",
            reporter_first_name="Grace",
            reporter_last_name="Achieng",
            reporter_email="grace@childline.example",
        )
    )

    [first, _second] = iwf_stand_in.calls("/report")
    assert first.json()["Reporter_First_Name"] == "Grace"
    for request in iwf_stand_in.server.requests:
        assert CHILD_NAME not in request.text and "+254" not in request.text


def test_the_description_is_cut_to_500_characters(iwf, iwf_request, iwf_stand_in):
    document = full_document()
    document["incident"]["summary"] = "x" * 900

    iwf.deliver(iwf_request(document))

    description = iwf_stand_in.reports[0]["Reporter_Description"]
    assert len(description) == 500 and description.endswith("…") and "Sextortion" in description


def test_an_address_over_1000_characters_is_refused_before_anything_is_sent(iwf, iwf_request, iwf_stand_in):
    document = full_document()
    document["incident"]["urls"] = ["https://example.net/" + "a" * 1000]

    with pytest.raises(DeliveryError) as refused:
        iwf.deliver(iwf_request(document))

    assert refused.value.permanent and refused.value.code == "url_too_long"
    assert iwf_stand_in.server.requests == []


def test_nothing_to_act_on_is_a_permanent_failure(iwf, iwf_request, iwf_stand_in):
    with pytest.raises(DeliveryError) as refused:
        iwf.deliver(iwf_request(document_without("incident.urls")))

    assert refused.value.permanent and "no reported address" in refused.value.reason


def test_report_remove_passes_only_the_age_range_and_a_reference_and_gives_the_counsellor_a_link(
    iwf, iwf_request, iwf_stand_in
):
    receipt = iwf.deliver(iwf_request(_with_report_remove()))

    [hand_off] = iwf_stand_in.calls("/report-remove")
    assert hand_off.json() == {"age_range": "13-15", "reference": "RR-7Q2K"}
    token = iwf_stand_in.hand_offs["RR-7Q2K"]
    assert receipt.external_reference == token
    assert f"{iwf_stand_in.url}/start/{token}" in receipt.detail


def test_report_remove_for_a_16_year_old(iwf, iwf_request, iwf_stand_in):
    iwf.deliver(iwf_request(_with_report_remove(age_band="16-17", age=16)))

    assert iwf_stand_in.calls("/report-remove")[0].json()["age_range"] == "16-17"


@pytest.mark.parametrize(
    ("child", "words"),
    [({"age_band": "10-12", "age": 12}, "13 to 17"), ({"age_band": "unknown", "age": None}, "13 to 15 or 16 to 17")],
)
def test_report_remove_outside_13_to_17_or_without_an_age_is_refused(iwf, iwf_request, iwf_stand_in, child, words):
    with pytest.raises(DeliveryError) as refused:
        iwf.deliver(iwf_request(_with_report_remove(**child)))

    assert refused.value.permanent and words in refused.value.reason
    assert iwf_stand_in.server.requests == []


def test_the_url_reports_of_a_child_under_13_still_go_without_the_hand_off(iwf, iwf_request, iwf_stand_in):
    document = full_document()
    document["report_remove"] = {"age_range": "under-13", "reference": "HK7-3PQ9-X"}

    receipt = iwf.deliver(iwf_request(document))

    assert len(iwf_stand_in.reports) == 2 and iwf_stand_in.calls("/report-remove") == []
    assert "No Report Remove hand-off" in receipt.detail and "13 to 17" in receipt.detail


def test_a_hand_off_answer_without_a_safe_link_is_refused(iwf, iwf_request, iwf_stand_in):
    iwf_stand_in.server.route("POST", "/report-remove", Reply(200, json={"token": "t", "url": "javascript:alert(1)"}))

    with pytest.raises(DeliveryError) as refused:
        iwf.deliver(iwf_request(_with_report_remove()))

    assert refused.value.permanent and refused.value.code == "report_remove_answer"


def test_a_retry_reports_only_what_is_left(iwf, iwf_request, iwf_stand_in, kept):
    document = full_document()
    document["report_remove"] = {"age_range": "13-17", "reference": "RR-7Q2K"}
    original = iwf_stand_in.report
    calls = []

    def second_fails(request):
        calls.append(request)
        if len(calls) == 2:
            return Reply(503)
        return original(request)

    iwf_stand_in.server.route("POST", "/report", second_fails)
    with pytest.raises(DeliveryError) as failed:
        iwf.deliver(iwf_request(document))
    assert not failed.value.permanent
    assert kept.progress["iwf_done"] == {"url-0": "880001"}

    receipt = iwf.deliver(iwf_request(document))

    assert [report["Reported_URL"] for report in iwf_stand_in.reports] == [URL, SECOND_URL]
    assert len(iwf_stand_in.calls("/report-remove")) == 1
    assert receipt.external_reference.startswith("880001, 880002, ")
    assert kept.progress == {}


@pytest.mark.parametrize(("status", "permanent"), [(401, True), (400, True), (503, False), (429, False)])
def test_http_answers_decide_whether_to_retry(iwf, iwf_request, iwf_stand_in, status, permanent):
    iwf_stand_in.server.route("POST", "/report", Reply(status, json={"error": f"bad {CHILD_NAME}"}))

    with pytest.raises(DeliveryError) as failed:
        iwf.deliver(iwf_request())

    assert failed.value.permanent is permanent
    assert CHILD_NAME not in failed.value.reason and iwf_stand_in.password not in failed.value.reason


def test_a_network_failure_is_retried(iwf, iwf_request, iwf_stand_in):
    iwf_stand_in.server.route("POST", "/report", Reply(drop=True))

    with pytest.raises(DeliveryError) as failed:
        iwf.deliver(iwf_request())

    assert not failed.value.permanent and failed.value.code == "network"


def test_wrong_credentials_never_show_the_password_in_logs_or_reasons(iwf, iwf_request, iwf_stand_in, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryError) as failed:
        iwf.deliver(iwf_request(password="Wrong-pass-991"))
    iwf.deliver(iwf_request(_with_report_remove()))

    assert failed.value.permanent and "Wrong-pass-991" not in failed.value.reason
    for value in [*PROTECTED, iwf_stand_in.password, "Wrong-pass-991", "RR-7Q2K"]:
        assert value not in caplog.text


def test_configuration_problems_are_named(iwf):
    problems = iwf.validate_config({"reporter": "named", "reporter_first_name": "G" * 51}, {})

    assert "Enter the address of the IWF's reporting API." in problems
    assert "Enter the password the IWF issued for its reporting API." in problems
    assert "Enter the number the IWF assigned for media type id." in problems
    assert "The IWF accepts names of at most 50 characters." in problems
    assert "A named reporter needs an e-mail address." in problems
    complete = {
        "base_url": "https://api.iwf.example",
        "username": "u",
        **{k: "3" for k in ("media_type_id", "report_channel_id", "reported_category_id")},
    }
    assert iwf.validate_config(complete, {"password": "secret-pw"}) == []
    assert iwf.validate_config({**complete, "base_url": "http://api.iwf.example"}, {"password": "p"}) == [
        "The address of the IWF's reporting API must use https://."
    ]


def test_the_hand_off_on_its_own_sends_only_the_age_range_and_the_reference(iwf, iwf_request, iwf_stand_in):
    from referrals.transports import HandOffRequest, transports_handing_off

    assert transports_handing_off("report_remove") == ["iwf"]
    config = iwf_request().config
    request = HandOffRequest(
        kind="report_remove",
        age_range="16-17",
        reference="RR-1A2B3C",
        config=config,
        secrets={"password": iwf_stand_in.password},
    )
    first, again = iwf.hand_off(request), iwf.hand_off(request)
    assert [call.json() for call in iwf_stand_in.calls("/report-remove")] == [
        {"age_range": "16-17", "reference": "RR-1A2B3C"}
    ] * 2
    token = iwf_stand_in.hand_offs["RR-1A2B3C"]
    assert first == again and first.link == f"{iwf_stand_in.url}/start/{token}" and first.external_reference == token


def test_a_hand_off_outside_13_to_17_or_with_bad_credentials_is_refused_plainly(iwf, iwf_request, iwf_stand_in):
    from referrals.transports import HandOffRequest

    def ask(age_range, password):
        return iwf.hand_off(
            HandOffRequest(
                kind="report_remove",
                age_range=age_range,
                reference="RR-9Z",
                config=iwf_request().config,
                secrets={"password": password},
            )
        )

    with pytest.raises(DeliveryError, match="13 to 17") as young:
        ask("under-13", iwf_stand_in.password)
    assert young.value.permanent and not iwf_stand_in.calls("/report-remove")
    with pytest.raises(DeliveryError, match="refused the agency's credentials") as refused:
        ask("13-15", "wrong-password")
    assert refused.value.permanent and "wrong-password" not in str(refused.value)
