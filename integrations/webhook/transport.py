"""Delivering a referral by signed webhook (see the package docstring and docs/WEBHOOK.md)."""

import json
import logging
import re
import threading
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpline.outbox import DeliveryError
from integrations.webhook.signing import signature_headers
from referrals.transports import DeliveryReceipt, DeliveryRequest, Rendered

logger = logging.getLogger(__name__)

# Seconds to wait for the receiver before this attempt counts as failed (it is retried).
TIMEOUT_SECONDS = 15
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MIN_SECRET_LENGTH = 16
# Answers that mean "try again later"; every other 4xx is the receiver refusing this document.
RETRY_STATUSES = {408, 425, 429}
# What we keep of the receiver's own reference: short, printable, nothing it could smuggle into a page.
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9._:/#-]{1,128}")
USER_AGENT = "helpline-webhook/1"

_local = threading.local()


def _session() -> requests.Session:
    """This thread's keep-alive session: one connection per receiver reused from delivery to delivery.

    Per thread because a ``requests.Session`` is not thread-safe. It keeps connections and
    nothing else: no cookies (no receiver's answer changes what the next request carries) and
    nothing from the environment (no proxy or .netrc decides where referrals go).
    """
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        _local.session = session
    return session


def url_problem(url: str) -> str:
    """Plain words for what is wrong with a receiver's address, or ""."""
    parts = urlsplit(str(url or "").strip())
    if not parts.scheme or not parts.hostname:
        return _("Enter the receiver's address, such as https://agency.example/referrals.")
    if parts.username or parts.password:
        return _("The address must not carry a user name or password; the signature proves who sends.")
    if parts.scheme == "https":
        return ""
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return ""  # a receiver on this machine (tests, a local stand-in)
    return _("The address must start with https://.")


class WebhookTransport:
    name = "webhook"
    label = gettext_lazy("Signed webhook (JSON POST)")
    config_fields = ("url",)
    secret_fields = ("signing_secret",)

    def validate_config(self, config: dict, secrets: dict) -> list[str]:
        problems = []
        problem = url_problem(config.get("url", ""))
        if problem:
            problems.append(problem)
        if len(str(secrets.get("signing_secret", ""))) < MIN_SECRET_LENGTH:
            problems.append(
                _("Enter a signing secret of at least %(count)d characters, shared with the receiver.")
                % {"count": MIN_SECRET_LENGTH}
            )
        return problems

    def render(self, request: DeliveryRequest) -> Rendered:
        body = json.dumps(request.document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return Rendered("application/json", body.encode("utf-8"))

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        problems = self.validate_config(request.config, request.secrets)
        if problems:
            raise DeliveryError(
                _("The agency's webhook configuration is incomplete: %(problems)s") % {"problems": " ".join(problems)},
                permanent=True,
                code="config",
            )
        body = self.render(request).body
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": request.idempotency_key,
            **signature_headers(secret=request.secrets["signing_secret"], body=body),
        }
        try:
            response = _session().post(
                request.config["url"], data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
            )
        except requests.Timeout:
            raise DeliveryError(_("The receiver did not answer in time."), permanent=False, code="timeout") from None
        except requests.RequestException:
            raise DeliveryError(_("The receiver could not be reached."), permanent=False, code="network") from None
        status = response.status_code
        logger.info("Webhook delivery %s answered HTTP %d", request.idempotency_key, status)
        if 200 <= status < 300:
            return _receipt(response)
        if status in RETRY_STATUSES or status >= 500:
            raise DeliveryError(
                _("The receiver is unavailable (HTTP %(status)d); trying again later.") % {"status": status},
                permanent=False,
                code=str(status),
            )
        if 300 <= status < 400:
            raise DeliveryError(
                _("The receiver answered with a redirect (HTTP %(status)d); check the agency's address.")
                % {"status": status},
                permanent=True,
                code=str(status),
            )
        raise DeliveryError(
            _("The receiver refused the referral (HTTP %(status)d).") % {"status": status},
            permanent=True,
            code=str(status),
        )


def _receipt(response) -> DeliveryReceipt:
    """The receiver's reference and synchronous acknowledgement, when its answer is JSON that gives them."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return DeliveryReceipt(detail=_("Delivered to the agency's system."))
    reference = str(answer.get("reference") or "")
    if not REFERENCE_PATTERN.fullmatch(reference):
        reference = ""
    acknowledged = answer.get("acknowledged") is True
    detail = (
        _("Delivered and acknowledged by the agency's system.")
        if acknowledged
        else _("Delivered to the agency's system.")
    )
    return DeliveryReceipt(external_reference=reference, detail=detail, acknowledged=acknowledged)
