"""The IWF transport: the URL reports, then the Report Remove hand-off, each done once across attempts.

What was done is kept through ``DeliveryRequest.remember`` as
``{"iwf_done": {key: reference}, "iwf_link": ...}`` after every request that
went through, so a retry sends only what is left: the IWF makes a new report for
every POST it receives.
"""

import json
import logging
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _

from helpline.outbox import DeliveryError
from integrations.iwf.reports import (
    MAX_EMAIL,
    MAX_NAME,
    REPORT_REMOVE_PATH,
    REPORT_REMOVE_RANGES,
    hand_off_skipped,
    requests_for,
)
from referrals.transports import DeliveryReceipt, DeliveryRequest, HandOff, HandOffRequest, Rendered

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20
DONE_KEY = "iwf_done"
LINK_KEY = "iwf_link"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
REQUIRED_CODES = ("media_type_id", "report_channel_id", "reported_category_id")


class IwfTransport:
    name = "iwf"
    label = "Internet Watch Foundation (URL reports, Report Remove)"
    config_fields = (
        "base_url",
        "username",
        "live",
        "media_type_id",
        "report_channel_id",
        "reported_category_id",
        "reporter",
        "reporter_first_name",
        "reporter_last_name",
        "reporter_email",
        "reporter_country",
    )
    secret_fields = ("password",)
    hand_offs = ("report_remove",)

    def validate_config(self, config: dict, secrets: dict) -> list[str]:
        problems = []
        problem = _base_url_problem(config.get("base_url", ""))
        if problem:
            problems.append(problem)
        if not str(config.get("username", "")).strip():
            problems.append(_("Enter the user name the IWF issued for its reporting API."))
        if not str(secrets.get("password", "")):
            problems.append(_("Enter the password the IWF issued for its reporting API."))
        for field in REQUIRED_CODES:
            if not str(config.get(field, "")).strip().isdigit():
                problems.append(
                    _("Enter the number the IWF assigned for %(field)s.") % {"field": field.replace("_", " ")}
                )
        reporter = config.get("reporter", "anonymous")
        if reporter not in ("anonymous", "named"):
            problems.append(_("The reporter must be anonymous or named."))
        if reporter == "named":
            for field in ("reporter_first_name", "reporter_last_name"):
                value = str(config.get(field, "")).strip()
                if not value:
                    problems.append(_("A named reporter needs a first and a last name."))
                    break
                if len(value) > MAX_NAME:
                    problems.append(_("The IWF accepts names of at most %(max)d characters.") % {"max": MAX_NAME})
                    break
            email = str(config.get("reporter_email", "")).strip()
            if not email or "@" not in email:
                problems.append(_("A named reporter needs an e-mail address."))
            elif len(email) > MAX_EMAIL:
                problems.append(
                    _("The IWF accepts e-mail addresses of at most %(max)d characters.") % {"max": MAX_EMAIL}
                )
        return problems

    def _config_require(self, config: dict, secrets: dict) -> None:
        problems = self.validate_config(config, secrets)
        if problems:
            raise DeliveryError(
                _("The agency's IWF configuration is incomplete: %(problems)s") % {"problems": " ".join(problems)},
                permanent=True,
                code="config",
            )

    def render(self, request: DeliveryRequest) -> Rendered:
        planned = requests_for(request.document, request.config)
        preview = [{"method": "POST", "path": path, "body": body} for _kind, _key, path, body in planned]
        return Rendered(
            "application/json", json.dumps(preview, indent=2, ensure_ascii=False).encode("utf-8", "replace")
        )

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        self._config_require(request.config, request.secrets)
        planned = requests_for(request.document, request.config)
        done = dict(request.progress.get(DONE_KEY) or {})
        link = str(request.progress.get(LINK_KEY) or "")
        session, base = _session(request.config, request.secrets)
        for kind, key, path, body in planned:
            if key in done:
                continue
            answer = _post(session, base + path, body, f"{request.idempotency_key}:{key}")
            if kind == "report_remove":
                done[key], link = _hand_off(answer)
            else:
                done[key] = _reference(answer)
            request.remember({DONE_KEY: done, LINK_KEY: link})
        request.remember({})
        logger.info("IWF delivery %s: %d request(s) done", request.idempotency_key, len(done))
        return _receipt(planned, done, link, hand_off_skipped(request.document))

    def hand_off(self, request: HandOffRequest) -> HandOff:
        """The Report Remove hand-off on its own (a counsellor with the child): only the age range and
        the reference go; the IWF answers one token per reference, so asking again gives the same link."""
        if request.kind != "report_remove":
            raise DeliveryError(_("The IWF makes no such hand-off."), permanent=True, code="hand_off_kind")
        if request.age_range not in REPORT_REMOVE_RANGES:
            raise DeliveryError(
                _("Report Remove through the helpline is for children aged 13 to 17."),
                permanent=True,
                code="report_remove_age",
            )
        self._config_require(request.config, request.secrets)
        session, base = _session(request.config, request.secrets)
        body = {"age_range": request.age_range, "reference": request.reference}
        token, link = _hand_off(_post(session, base + REPORT_REMOVE_PATH, body, f"hand-off:{request.reference}"))
        logger.info("IWF Report Remove hand-off made")
        return HandOff(link=link, external_reference=token)


def _session(config: dict, secrets: dict) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.auth = (str(config["username"]), str(secrets["password"]))
    session.trust_env = False
    return session, str(config["base_url"]).rstrip("/")


def _receipt(planned, done: dict, link: str, skipped: str) -> DeliveryReceipt:
    urls = sum(1 for kind, *_rest in planned if kind == "url")
    notes = []
    if urls:
        notes.append(_("%(count)d address(es) reported to the IWF.") % {"count": urls})
    if link:
        notes.append(_("Report Remove link for the child: %(link)s") % {"link": link})
    if skipped:
        notes.append(_("No Report Remove hand-off: %(reason)s") % {"reason": skipped})
    references = [done[key] for _kind, key, *_rest in planned if done.get(key)]
    return DeliveryReceipt(external_reference=", ".join(references), detail=" ".join(notes))


def _post(session: requests.Session, url: str, body: dict, idempotency_key: str) -> dict:
    try:
        response = session.post(
            url,
            data=json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8", "replace"),
            headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        logger.warning("Could not reach the IWF: %s", type(exc).__name__)
        raise DeliveryError(
            _("Could not reach the IWF. Trying again shortly."), permanent=False, code="network"
        ) from None
    status = response.status_code
    if response.is_redirect:
        # A report is never followed to another address: whoever answers a redirect would receive it.
        logger.warning("The IWF answered HTTP %s (a redirect); not followed", status)
        raise DeliveryError(
            _("The IWF's address answered with a redirect, which is never followed. Tell an administrator."),
            permanent=True,
            code="redirect",
        )
    if 200 <= status < 300:
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return answer if isinstance(answer, dict) else {}
    logger.warning("The IWF answered HTTP %s", status)
    if status in (401, 403):
        raise DeliveryError(
            _("The IWF refused the agency's credentials. Tell an administrator to check them."),
            permanent=True,
            code=str(status),
        )
    if status == 429 or status >= 500:
        raise DeliveryError(
            _("The IWF is unavailable (HTTP %(status)d). Trying again shortly.") % {"status": status},
            permanent=False,
            code=str(status),
        )
    raise DeliveryError(
        _("The IWF refused the report (HTTP %(status)d). Tell an administrator.") % {"status": status},
        permanent=True,
        code=str(status),
    )


def _reference(answer: dict) -> str:
    for key in ("Report_ID", "report_id", "id", "reference"):
        if answer.get(key) not in (None, ""):
            return str(answer[key])
    return ""


def _hand_off(answer: dict) -> tuple[str, str]:
    token, link = str(answer.get("token") or ""), str(answer.get("url") or "")
    parts = urlsplit(link)
    safe = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    if not token or not safe:
        # Without a token and a safe link there is nothing the counsellor can give the child.
        raise DeliveryError(
            _("The IWF's answer to the Report Remove hand-off had no usable link. Tell an administrator."),
            permanent=True,
            code="report_remove_answer",
        )
    return token, link


def _base_url_problem(url: str) -> str:
    parts = urlsplit(str(url or ""))
    if not url:
        return _("Enter the address of the IWF's reporting API.")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return _("The address of the IWF's reporting API must start with https://.")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return _("The address of the IWF's reporting API must use https://.")
    if parts.username or parts.password or parts.query or parts.fragment:
        return _("The address of the IWF's reporting API must not carry credentials, a query or a fragment.")
    return ""
