"""The NCMEC CyberTipline transport: submit the report XML, then finish it; retract it when finishing fails.

Resuming after a crash: the report id NCMEC answers to ``/submit`` is kept at
once through ``DeliveryRequest.remember`` (the referral outbox stores it on the
delivery). A later attempt that finds it in ``DeliveryRequest.progress`` does not
submit again: it finishes that report (an answer "already finished" means an
earlier attempt did, and is a success); only when NCMEC no longer holds the
report (retracted, unknown) does it start over. So a worker that dies between
submit and finish leaves NCMEC one report, not two.
"""

import logging
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _

from helpline.outbox import DeliveryError
from integrations.ncmec.report import INCIDENT_TYPE_VALUES, report_xml
from integrations.ncmec.responses import (
    ALREADY_FINISHED,
    ALREADY_RETRACTED,
    NO_SUCH_REPORT,
    SUCCESS,
    Answer,
    answer_read,
    error_for,
)
from referrals.transports import DeliveryReceipt, DeliveryRequest, Rendered

logger = logging.getLogger(__name__)

# Seconds to wait for NCMEC before giving up this attempt (it is retried).
TIMEOUT_SECONDS = 30
PROGRESS_KEY = "ncmec_report_id"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "Accept": "text/xml"}


class NcmecTransport:
    name = "ncmec"
    label = "NCMEC CyberTipline (report XML)"
    config_fields = (
        "base_url",
        "username",
        "reporter_first_name",
        "reporter_last_name",
        "reporter_email",
        "default_incident_type",
    )
    secret_fields = ("password",)

    def validate_config(self, config: dict, secrets: dict) -> list[str]:
        problems = []
        problem = base_url_problem(config.get("base_url", ""), _("NCMEC's reporting API"))
        if problem:
            problems.append(problem)
        if not str(config.get("username", "")).strip():
            problems.append(_("Enter the user name NCMEC issued for the CyberTipline API."))
        if not str(secrets.get("password", "")):
            problems.append(_("Enter the password NCMEC issued for the CyberTipline API."))
        default = config.get("default_incident_type", "")
        if default and default not in INCIDENT_TYPE_VALUES:
            problems.append(
                _("The default incident type must be one of NCMEC's eight: %(types)s.")
                % {"types": "; ".join(INCIDENT_TYPE_VALUES)}
            )
        email = str(config.get("reporter_email", ""))
        if email and "@" not in email:
            problems.append(_("The reporting person's e-mail address is not an e-mail address."))
        return problems

    def render(self, request: DeliveryRequest) -> Rendered:
        return Rendered("application/xml", report_xml(request.document, request.config))

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        problems = self.validate_config(request.config, request.secrets)
        if problems:
            raise DeliveryError(
                _("The agency's NCMEC configuration is incomplete: %(problems)s") % {"problems": " ".join(problems)},
                permanent=True,
                code="config",
            )
        body = self.render(request).body  # validated against the XSD before anything is sent
        client = _Client(request)
        report_id = str(request.progress.get(PROGRESS_KEY) or "")
        if report_id:
            receipt = _finish(client, report_id, request, resuming=True)
            if receipt is not None:
                return receipt
        answer = client.call("/submit", data=body, headers=XML_HEADERS)
        if answer.code != SUCCESS:
            raise error_for(answer.code)
        if not answer.report_id:
            raise DeliveryError(
                _("NCMEC accepted the report but did not say its id. Tell an administrator."),
                permanent=True,
                code="no_report_id",
            )
        request.remember({PROGRESS_KEY: answer.report_id})
        logger.info("NCMEC report %s submitted for delivery %s", answer.report_id, request.idempotency_key)
        return _finish(client, answer.report_id, request, resuming=False)


def _finish(client: "_Client", report_id: str, request: DeliveryRequest, *, resuming: bool) -> DeliveryReceipt | None:
    """Finish the report; when that fails, retract it. None: NCMEC no longer holds it, start over."""
    try:
        answer = client.call("/finish", data={"id": report_id})
    except DeliveryError as exc:
        failure = exc
    else:
        if answer.code in (SUCCESS, ALREADY_FINISHED):
            return _receipt(report_id, request)
        if resuming and answer.code in (NO_SUCH_REPORT, ALREADY_RETRACTED):
            request.remember({})
            return None
        failure = error_for(answer.code)
    logger.warning("NCMEC report %s could not be finished (%s); retracting it", report_id, failure.code or "network")
    try:
        retracted = client.call("/retract", data={"id": report_id})
    except DeliveryError:
        # Neither finished nor retracted: keep the id, the next attempt tries to finish it again.
        raise DeliveryError(
            _("NCMEC did not finish the report and it could not be retracted yet. Trying again shortly."),
            permanent=False,
            code=failure.code,
        ) from None
    if retracted.code == ALREADY_FINISHED:
        return _receipt(report_id, request)  # the finish went through after all
    request.remember({})
    raise failure


def _receipt(report_id: str, request: DeliveryRequest) -> DeliveryReceipt:
    request.remember({})
    logger.info("NCMEC report %s finished for delivery %s", report_id, request.idempotency_key)
    return DeliveryReceipt(
        external_reference=report_id,
        detail=_("NCMEC CyberTipline report %(report)s made and finished.") % {"report": report_id},
    )


class _Client:
    """One attempt's calls under HTTP Basic; every failure becomes a DeliveryError without credentials in it."""

    def __init__(self, request: DeliveryRequest):
        self.base = str(request.config["base_url"]).rstrip("/")
        self.session = requests.Session()
        self.session.auth = (str(request.config["username"]), str(request.secrets["password"]))
        self.session.trust_env = False  # no proxy or .netrc from the environment decides where reports go

    def call(self, path: str, *, data, headers: dict | None = None) -> Answer:
        try:
            response = self.session.post(
                self.base + path, data=data, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
            )
        except requests.RequestException as exc:
            logger.warning("Could not reach NCMEC for %s: %s", path, type(exc).__name__)
            raise DeliveryError(
                _("Could not reach NCMEC. Trying again shortly."), permanent=False, code="network"
            ) from None
        if response.is_redirect:
            raise _redirected(response)
        answer = answer_read(response.content)
        if answer is not None:
            return answer
        logger.warning("NCMEC answered %s with HTTP %s and no response code", path, response.status_code)
        if response.status_code in (401, 403):
            raise error_for(2000 if response.status_code == 401 else 3100)
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError(
                _("NCMEC is unavailable (HTTP %(status)d). Trying again shortly.") % {"status": response.status_code},
                permanent=False,
                code=str(response.status_code),
            )
        raise DeliveryError(
            _("NCMEC's answer could not be read (HTTP %(status)d). Tell an administrator to check the address.")
            % {"status": response.status_code},
            permanent=True,
            code=str(response.status_code),
        )


def _redirected(response: requests.Response) -> DeliveryError:
    # A report is never followed to another address: whoever answers a redirect would receive it.
    logger.warning("NCMEC answered HTTP %s (a redirect); not followed", response.status_code)
    return DeliveryError(
        _("NCMEC's address answered with a redirect, which is never followed. Tell an administrator to check it."),
        permanent=True,
        code="redirect",
    )


def base_url_problem(url: str, what: str) -> str:
    """Why ``url`` cannot be used as a receiver's address, or an empty string. Plain HTTP only to this machine."""
    parts = urlsplit(str(url or ""))
    if not url:
        return _("Enter the address of %(what)s.") % {"what": what}
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return _("The address of %(what)s must start with https://.") % {"what": what}
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return _("The address of %(what)s must use https://.") % {"what": what}
    if parts.username or parts.password or parts.query or parts.fragment:
        return _("The address of %(what)s must not carry credentials, a query or a fragment.") % {"what": what}
    return ""
