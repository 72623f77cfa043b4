"""The CPIMS case report, against a stand-in that answers errors with HTTP 200 and counts duplicates."""

import json
import logging
from dataclasses import replace

import pytest

from helpline.outbox import DeliveryError
from integrations.cpims.case_report import case_report
from referrals.transports import transport_get
from tests.fakes.http import Reply
from tests.integrations.referral_documents import (
    CHILD_NAME,
    PROTECTED,
    REFERRAL_ID,
    document_without,
    full_document,
    minimal_document,
)


@pytest.fixture
def transport():
    return transport_get("cpims")


def test_a_referral_is_one_case_with_our_id_and_the_national_codes(transport, cpims_request, cpims):
    receipt = transport.deliver(cpims_request())

    [(case_id, report)] = cpims.cases.items()
    assert receipt.external_reference == case_id
    assert report["external_id"] == REFERRAL_ID
    assert report["case_category"] == "CCOA"
    assert [(d["category"], d["sub_category"]) for d in report["case_details"]] == [("CCOA", "OAST"), ("CCOA", "OAOG")]
    assert (report["county"], report["org_unit"]) == ("047", "1234")
    assert (report["child_first_name"], report["child_other_names"], report["child_surname"]) == (
        "Amina",
        "Wanjiru",
        "Otieno",
    )
    assert report["child_sex"] == "SFEM"
    assert report["perpetrator_known"] is True and report["perpetrators"][0]["surname"] == "Kamau"
    assert "He says he will post my pictures" in report["case_narration"]
    [call] = cpims.calls()
    assert call.headers["Authorization"] == f"Token {cpims.token}"
    assert call.body == transport.render(cpims_request()).body  # the preview is exactly what CPIMS received


def test_a_constituency_code_comes_from_a_finer_region(cpims_request):
    document = full_document()
    document["child"]["region"] = "KE-047-285"

    report = case_report(document, {})

    assert (report["county"], report["constituency"]) == ("047", "285")


def test_missing_data_stays_missing_never_made_up(transport, cpims_request, cpims):
    transport.deliver(cpims_request(minimal_document()))

    [report] = cpims.cases.values()
    for key in (
        "child_first_name",
        "child_surname",
        "child_tel",
        "child_dob",
        "child_sex",
        "reporter_tel",
        "county",
        "perpetrators",
        "case_landmark",
    ):
        assert key not in report
    assert report["case_date"] == "2026-12-02"


def test_no_national_code_is_a_permanent_failure_before_anything_is_sent(transport, cpims_request, cpims):
    document = full_document()
    for category in document["categories"]:
        del category["national"]

    with pytest.raises(DeliveryError) as refused:
        transport.deliver(cpims_request(document))

    assert refused.value.permanent and refused.value.code == "no_cpims_category"
    assert cpims.calls() == []


def test_an_error_answered_with_http_200_is_a_failure_whose_reason_quotes_nothing(transport, cpims_request, cpims):
    document = full_document()
    document["categories"] = [{"code": "x", "label": "x", "national": {"cpims": CHILD_NAME.split()[0].upper()}}]

    with pytest.raises(DeliveryError) as refused:
        transport.deliver(cpims_request(document))

    assert refused.value.permanent and "HTTP 200" in refused.value.reason
    assert "AMINA" not in refused.value.reason.upper()
    assert cpims.cases == {}


def test_field_errors_in_a_200_answer_name_the_fields_only(transport, cpims_request, cpims):
    cpims.server.route(
        "POST", "/api/v1/crs/", Reply(200, json={"status": "error", "errors": {"child_surname": [f"{CHILD_NAME} bad"]}})
    )

    with pytest.raises(DeliveryError) as refused:
        transport.deliver(cpims_request())

    assert (
        refused.value.permanent and "child_surname" in refused.value.reason and CHILD_NAME not in refused.value.reason
    )


def test_a_400_is_permanent_and_names_the_field(transport, cpims_request, cpims):
    document = document_without("created_at")

    with pytest.raises(DeliveryError) as refused:
        transport.deliver(cpims_request(document))

    assert refused.value.permanent and "case_date" in refused.value.reason


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        (Reply(503), False),
        (Reply(429), False),
        (Reply(drop=True), False),
        (Reply(200, body="<html>proxy</html>"), False),
        (Reply(200, json={"status": "success"}), True),
    ],
)
def test_answers_that_are_not_a_case(transport, cpims_request, cpims, answer, permanent):
    cpims.server.route("POST", "/api/v1/crs/", answer)

    with pytest.raises(DeliveryError) as failed:
        transport.deliver(cpims_request())

    assert failed.value.permanent is permanent


def test_a_wrong_token_is_permanent_and_never_shown(transport, cpims_request, cpims, caplog):
    caplog.set_level(logging.DEBUG)

    with pytest.raises(DeliveryError) as refused:
        transport.deliver(cpims_request(token="tok-wrong-4471"))

    assert refused.value.permanent and refused.value.code == "401"
    assert "tok-wrong-4471" not in refused.value.reason and "tok-wrong-4471" not in caplog.text


def test_a_retry_after_the_case_was_filed_posts_nothing(transport, cpims_request, cpims, kept):
    filed = []

    def remember_then_die(progress):
        kept(progress)
        if progress:
            filed.append(progress)
            raise KeyboardInterrupt  # the worker is killed right after CPIMS answered

    with pytest.raises(KeyboardInterrupt):
        transport.deliver(replace(cpims_request(), remember=remember_then_die))

    receipt = transport.deliver(cpims_request())

    assert len(cpims.calls()) == 1 and cpims.duplicates == 0
    assert receipt.external_reference == next(iter(cpims.cases))
    assert kept.progress == {}


def test_a_lost_answer_is_posted_again_with_our_id_and_cpims_holds_one_case(transport, cpims_request, cpims):
    def file_then_drop(request):
        cpims.case_report(request)
        return Reply(drop=True)

    cpims.server.route("POST", "/api/v1/crs/", file_then_drop, then=cpims.case_report)
    with pytest.raises(DeliveryError):
        transport.deliver(cpims_request())

    receipt = transport.deliver(cpims_request())

    first, second = cpims.calls()
    assert json.loads(first.body)["external_id"] == json.loads(second.body)["external_id"] == REFERRAL_ID
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert len(cpims.cases) == 1 and receipt.external_reference == next(iter(cpims.cases))


def test_nothing_protected_and_no_token_in_the_logs(transport, cpims_request, cpims, caplog):
    caplog.set_level(logging.DEBUG)
    transport.deliver(cpims_request())
    cpims.server.route("POST", "/api/v1/crs/", Reply(200, json={"status": "error", "message": CHILD_NAME}))
    with pytest.raises(DeliveryError):
        transport.deliver(cpims_request(progress={}))

    for value in [*PROTECTED, cpims.token]:
        assert value not in caplog.text


def test_configuration_problems_are_named(transport):
    assert transport.validate_config({}, {}) == [
        "Enter the address of the CPIMS server.",
        "Enter the API token CPIMS issued to the helpline.",
        "Enter the CPIMS organisation unit the helpline reports as.",
    ]
    assert transport.validate_config(
        {"base_url": "https://cpims.example.go.ke", "org_unit": "1", "reporter_county": "Nairobi"}, {"token": "t"}
    ) == ["The reporter's county is a CPIMS county code (digits, e.g. 047)."]


def test_text_that_cannot_be_encoded_does_not_stop_the_report(transport, cpims_request, cpims):
    document = full_document()
    document["incident"]["summary"] = "broken \ud800 client"

    transport.deliver(cpims_request(document))

    [report] = cpims.cases.values()
    assert "broken ? client" in report["case_narration"]
