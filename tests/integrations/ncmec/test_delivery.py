"""Submit, finish, retract: against the CyberTipline stand-in, which checks the XML and answers NCMEC's codes."""

import logging
from dataclasses import replace

import pytest

from helpline.outbox import DeliveryError
from referrals.transports import transport_get
from tests.integrations.ncmec.conftest import USERNAME
from tests.integrations.referral_documents import PROTECTED, document_without


@pytest.fixture
def ncmec():
    return transport_get("ncmec")


def test_a_referral_becomes_one_finished_report_whose_id_is_the_external_reference(ncmec, ncmec_request, cybertipline):
    receipt = ncmec.deliver(ncmec_request())

    [report_id] = cybertipline.reports
    assert cybertipline.states() == ["finished"]
    assert receipt.external_reference == report_id
    assert report_id in receipt.detail
    [submit] = cybertipline.calls("/submit")
    assert submit.basic_auth == (USERNAME, cybertipline.password)
    assert submit.headers["Content-Type"].startswith("text/xml")
    assert submit.body == ncmec.render(ncmec_request()).body  # the preview is exactly what NCMEC received
    assert [r.path for r in cybertipline.server.requests] == ["/submit", "/finish"]  # no file upload, ever


def test_an_invalid_document_is_refused_before_anything_is_sent(ncmec, ncmec_request, cybertipline):
    document = document_without("categories")

    with pytest.raises(DeliveryError) as refused:
        ncmec.deliver(ncmec_request(document))

    assert refused.value.permanent
    assert cybertipline.server.requests == []


def test_wrong_credentials_are_a_permanent_failure_that_never_shows_the_password(ncmec, ncmec_request, cybertipline):
    with pytest.raises(DeliveryError) as refused:
        ncmec.deliver(ncmec_request(password="not-the-password-Zx81"))

    assert refused.value.permanent and refused.value.code == "2000"
    assert "not-the-password-Zx81" not in refused.value.reason
    assert cybertipline.reports == {}


@pytest.mark.parametrize(("code", "permanent"), [(3100, True), (4100, True), (4110, True), (1000, False)])
def test_ncmec_codes_on_submit_decide_whether_to_retry(ncmec, ncmec_request, cybertipline, code, permanent):
    cybertipline.answer_next("/submit", code)

    with pytest.raises(DeliveryError) as failed:
        ncmec.deliver(ncmec_request())

    assert failed.value.permanent is permanent and failed.value.code == str(code)
    assert "Forced failure" not in failed.value.reason  # NCMEC's own description is never repeated


def test_an_unavailable_service_is_retried(ncmec, ncmec_request, cybertipline):
    cybertipline.server.fail_first(1, "POST", "/submit")

    with pytest.raises(DeliveryError) as failed:
        ncmec.deliver(ncmec_request())

    assert not failed.value.permanent
    assert ncmec.deliver(ncmec_request()).external_reference
    assert cybertipline.states() == ["finished"]


def test_finishing_fails_so_the_report_is_retracted_and_the_retry_makes_one_finished_report(
    ncmec, ncmec_request, cybertipline, kept
):
    cybertipline.answer_next("/finish", 1000)

    with pytest.raises(DeliveryError) as failed:
        ncmec.deliver(ncmec_request())

    assert not failed.value.permanent
    assert cybertipline.states() == ["retracted"]
    assert kept.progress == {}  # nothing left to resume: the next attempt starts over
    receipt = ncmec.deliver(ncmec_request())
    assert cybertipline.states() == ["retracted", "finished"]
    assert receipt.external_reference == list(cybertipline.reports)[1]


def test_a_permanent_refusal_to_finish_retracts_and_fails_for_good(ncmec, ncmec_request, cybertipline):
    cybertipline.answer_next("/finish", 3100)

    with pytest.raises(DeliveryError) as failed:
        ncmec.deliver(ncmec_request())

    assert failed.value.permanent
    assert cybertipline.states() == ["retracted"]


def test_a_finish_whose_answer_was_lost_is_found_finished_when_retracting(ncmec, ncmec_request, cybertipline):
    cybertipline.lose_answer_next("/finish")

    receipt = ncmec.deliver(ncmec_request())

    assert cybertipline.states() == ["finished"]
    assert receipt.external_reference == next(iter(cybertipline.reports))
    assert len(cybertipline.calls("/retract")) == 1


class WorkerDied(BaseException):
    """What a killed worker looks like from inside: nothing after this line runs."""


def test_a_worker_that_dies_between_submit_and_finish_leaves_one_report(ncmec, ncmec_request, cybertipline, kept):
    def remember_then_die(progress):
        kept(progress)
        raise WorkerDied

    dying = replace(ncmec_request(), remember=remember_then_die)
    with pytest.raises(WorkerDied):
        ncmec.deliver(dying)
    assert cybertipline.states() == ["open"] and kept.progress

    receipt = ncmec.deliver(ncmec_request())  # the outbox's next attempt, with what was kept

    assert len(cybertipline.calls("/submit")) == 1
    assert cybertipline.states() == ["finished"]
    assert receipt.external_reference == next(iter(cybertipline.reports))
    assert kept.progress == {}


def test_a_retry_after_the_finish_went_through_does_not_report_again(ncmec, ncmec_request, cybertipline, kept):
    ncmec.deliver(ncmec_request())
    [report_id] = cybertipline.reports

    # The worker died after finishing but before the outcome was recorded: the next attempt still has the id.
    receipt = ncmec.deliver(ncmec_request(progress={"ncmec_report_id": report_id}))

    assert receipt.external_reference == report_id
    assert len(cybertipline.calls("/submit")) == 1


def test_a_kept_report_ncmec_no_longer_holds_is_submitted_again(ncmec, ncmec_request, cybertipline):
    receipt = ncmec.deliver(ncmec_request(progress={"ncmec_report_id": "99"}))

    assert cybertipline.states() == ["finished"]
    assert receipt.external_reference == next(iter(cybertipline.reports))


def test_neither_finished_nor_retracted_keeps_the_id_for_the_next_attempt(ncmec, ncmec_request, cybertipline, kept):
    cybertipline.answer_next("/finish", 1000)
    cybertipline.lose_answer_next("/retract")

    with pytest.raises(DeliveryError) as failed:
        ncmec.deliver(ncmec_request())

    assert not failed.value.permanent
    # The lost retract did go through at NCMEC; the next attempt asks to finish the kept id and starts over.
    assert kept.progress == {"ncmec_report_id": next(iter(cybertipline.reports))}
    ncmec.deliver(ncmec_request())
    assert cybertipline.states() == ["retracted", "finished"]


def test_nothing_protected_and_no_secret_reaches_the_logs(ncmec, ncmec_request, cybertipline, caplog):
    caplog.set_level(logging.DEBUG)
    cybertipline.answer_next("/finish", 1000)
    with pytest.raises(DeliveryError):
        ncmec.deliver(ncmec_request())
    ncmec.deliver(ncmec_request())
    with pytest.raises(DeliveryError):
        ncmec.deliver(ncmec_request(password="wrong-Secret-77"))

    logged = caplog.text
    for value in [*PROTECTED, cybertipline.password, "wrong-Secret-77"]:
        assert value not in logged


def test_configuration_problems_are_named_and_never_echo_the_secret(ncmec):
    assert ncmec.validate_config({}, {}) == [
        "Enter the address of NCMEC's reporting API.",
        "Enter the user name NCMEC issued for the CyberTipline API.",
        "Enter the password NCMEC issued for the CyberTipline API.",
    ]
    problems = ncmec.validate_config(
        {"base_url": "http://report.cybertip.org/ispws", "username": "u", "default_incident_type": "Other"},
        {"password": "hunter2-secret"},
    )
    assert any("https://" in problem for problem in problems)
    assert any("eight" in problem for problem in problems)
    assert not any("hunter2-secret" in problem for problem in problems)
    assert (
        ncmec.validate_config({"base_url": "https://report.cybertip.org/ispws", "username": "u"}, {"password": "p"})
        == []
    )


def test_an_incomplete_configuration_fails_for_good_without_a_call(ncmec, ncmec_request, cybertipline):
    with pytest.raises(DeliveryError) as refused:
        ncmec.deliver(ncmec_request(password=""))

    assert refused.value.permanent and refused.value.code == "config"
    assert cybertipline.server.requests == []
