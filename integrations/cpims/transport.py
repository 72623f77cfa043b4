"""The CPIMS transport: one case report per referral, posted once, read carefully.

CPIMS answers some failures with HTTP 200 and an error body, so an answer is a
success only when it is 2xx, is JSON, names the case (``case_id`` or ``id``) and
carries no error (``status``/``success``/``error``/``errors``). Its error texts
are never repeated (they may quote the child's name); a reason names the
refused fields only.

Posting once: every report carries our ``external_id`` (the referral id), and
the case id is kept through ``DeliveryRequest.remember`` as soon as CPIMS names
it; an attempt that finds it kept returns it without posting. A POST whose answer
is lost is posted again on the next attempt, with the same ``external_id`` and
``Idempotency-Key``, for CPIMS to recognise.
"""

import logging
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _

from helpline.outbox import DeliveryError
from integrations.cpims.case_report import case_report_json
from referrals.transports import DeliveryReceipt, DeliveryRequest, Rendered

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20
PATH = "/api/v1/crs/"
CASE_KEY = "cpims_case_id"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
ERROR_STATUSES = {"error", "failed", "failure", "fail"}


class CpimsTransport:
    name = "cpims"
    label = "Kenya CPIMS (case report)"
    config_fields = (
        "base_url",
        "org_unit",
        "reporter_type",
        "reporter_first_name",
        "reporter_surname",
        "reporter_county",
        "reporter_sub_county",
    )
    secret_fields = ("token",)

    def validate_config(self, config: dict, secrets: dict) -> list[str]:
        problems = []
        problem = _base_url_problem(config.get("base_url", ""))
        if problem:
            problems.append(problem)
        if not str(secrets.get("token", "")).strip():
            problems.append(_("Enter the API token CPIMS issued to the helpline."))
        if not str(config.get("org_unit", "")).strip():
            problems.append(_("Enter the CPIMS organisation unit the helpline reports as."))
        county = str(config.get("reporter_county", ""))
        if county and not county.isdigit():
            problems.append(_("The reporter's county is a CPIMS county code (digits, e.g. 047)."))
        return problems

    def render(self, request: DeliveryRequest) -> Rendered:
        return Rendered("application/json", case_report_json(request.document, request.config))

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        problems = self.validate_config(request.config, request.secrets)
        if problems:
            raise DeliveryError(
                _("The agency's CPIMS configuration is incomplete: %(problems)s") % {"problems": " ".join(problems)},
                permanent=True,
                code="config",
            )
        body = self.render(request).body
        kept = str(request.progress.get(CASE_KEY) or "")
        if kept:
            return _receipt(kept, request)
        session = requests.Session()
        session.trust_env = False
        try:
            response = session.post(
                str(request.config["base_url"]).rstrip("/") + PATH,
                data=body,
                headers={
                    "Authorization": f"Token {request.secrets['token']}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "Idempotency-Key": request.idempotency_key,
                },
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            logger.warning("Could not reach CPIMS for delivery %s: %s", request.idempotency_key, type(exc).__name__)
            raise DeliveryError(
                _("Could not reach CPIMS. Trying again shortly."), permanent=False, code="network"
            ) from None
        case_id = _case_id(response, request.idempotency_key)
        request.remember({CASE_KEY: case_id})
        return _receipt(case_id, request)


def _receipt(case_id: str, request: DeliveryRequest) -> DeliveryReceipt:
    request.remember({})
    logger.info("CPIMS case %s for delivery %s", case_id, request.idempotency_key)
    return DeliveryReceipt(external_reference=case_id, detail=_("CPIMS case %(case)s filed.") % {"case": case_id})


def _case_id(response: requests.Response, key: str) -> str:
    """The new case's id from a successful answer; otherwise the DeliveryError that answer means."""
    status = response.status_code
    if response.is_redirect:
        # A case report is never followed to another address: whoever answers a redirect would receive it.
        logger.warning("CPIMS answered delivery %s with HTTP %s (a redirect); not followed", key, status)
        raise DeliveryError(
            _("The CPIMS address answered with a redirect, which is never followed. Tell an administrator."),
            permanent=True,
            code="redirect",
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if 200 <= status < 300 and isinstance(answer, dict) and not _is_error(answer):
        case_id = answer.get("case_id") or answer.get("id")
        if case_id not in (None, ""):
            return str(case_id)
    logger.warning("CPIMS refused delivery %s: HTTP %s", key, status)
    if status in (401, 403):
        raise DeliveryError(
            _("CPIMS refused the helpline's API token. Tell an administrator to check it."),
            permanent=True,
            code=str(status),
        )
    if status == 429 or status >= 500:
        raise DeliveryError(
            _("CPIMS is unavailable (HTTP %(status)d). Trying again shortly.") % {"status": status},
            permanent=False,
            code=str(status),
        )
    if 200 <= status < 300 and not isinstance(answer, dict):
        raise DeliveryError(
            _("CPIMS's answer could not be read. Trying again shortly."), permanent=False, code="unreadable"
        )
    fields = _refused_fields(answer)
    if fields:
        reason = _("CPIMS refused the case report; the fields it named: %(fields)s. Tell an administrator.") % {
            "fields": ", ".join(fields)
        }
    elif 200 <= status < 300:
        reason = _("CPIMS refused the case report (an error answered with HTTP 200). Tell an administrator.")
    else:
        reason = _("CPIMS refused the case report (HTTP %(status)d). Tell an administrator.") % {"status": status}
    raise DeliveryError(reason, permanent=True, code="refused" if 200 <= status < 300 else str(status))


def _is_error(answer: dict) -> bool:
    return (
        str(answer.get("status", "")).lower() in ERROR_STATUSES
        or answer.get("success") is False
        or bool(answer.get("error"))
        or bool(answer.get("errors"))
    )


def _refused_fields(answer) -> list[str]:
    """Field names CPIMS complained about (keys only: its messages may quote what we sent)."""
    if not isinstance(answer, dict):
        return []
    errors = answer.get("errors")
    if isinstance(errors, dict):
        names = list(errors)
    else:
        names = [key for key in answer if key not in {"status", "success", "error", "errors", "message", "detail"}]
    return sorted(name for name in names if isinstance(name, str) and name.replace("_", "").isalnum())[:10]


def _base_url_problem(url: str) -> str:
    parts = urlsplit(str(url or ""))
    if not url:
        return _("Enter the address of the CPIMS server.")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return _("The address of the CPIMS server must start with https://.")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return _("The address of the CPIMS server must use https://.")
    if parts.username or parts.password or parts.query or parts.fragment:
        return _("The address of the CPIMS server must not carry credentials, a query or a fragment.")
    return ""
