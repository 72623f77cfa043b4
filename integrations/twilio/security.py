"""Checking that a webhook really comes from Twilio, and recording when one does not."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.urls import get_script_prefix, reverse
from twilio.request_validator import RequestValidator

from helpline.audit.services import audit_record
from integrations.twilio import actions

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "HTTP_X_TWILIO_SIGNATURE"
# A flood of forged requests must not flood the append-only audit trail (nor
# queue every writer behind its chain lock): one event per endpoint and reason
# per window, the rest are counted in the log.
AUDIT_WINDOW_SECONDS = 60


def public_url(viewname: str) -> str:
    """The address Twilio uses for one of our views (PUBLIC_BASE_URL is the public URLconf root)."""
    path = reverse(viewname)
    return settings.PUBLIC_BASE_URL + "/" + path[len(get_script_prefix()) :]


def signed_url(request) -> str:
    """The URL Twilio signed: the public address, not the one the proxy forwarded to.

    PUBLIC_BASE_URL is the public address of the URLconf's root, so path_info
    (the path without any script prefix) is appended, plus the query string.
    """
    url = settings.PUBLIC_BASE_URL + request.path_info
    query = request.META.get("QUERY_STRING", "")
    return f"{url}?{query}" if query else url


def signature_problem(request, token: str) -> str | None:
    """None when the request is signed with ``token`` (the endpoint's auth token); otherwise why not."""
    signature = request.META.get(SIGNATURE_HEADER, "")
    if not signature:
        return "missing"
    if not token:
        return "no_token"
    # Twilio signs the form parameters it posted, so they are read here before anything else.
    if RequestValidator(token).validate(signed_url(request), request.POST, signature):
        return None
    return "mismatch"


def signature_rejected(request, *, endpoint, problem: str, webhook: str) -> None:
    """Audit a refused webhook, once per endpoint and problem per window; nothing from the request body."""
    key = f"twilio:signature-rejected:{endpoint.pk}:{problem}"
    if not cache.add(key, 1, timeout=AUDIT_WINDOW_SECONDS):
        try:
            count = cache.incr(key)
        except ValueError:  # expired in between
            count = 1
        logger.warning("Twilio %s webhook refused (%s signature), %d in this window", webhook, problem, count)
        return
    logger.warning("Twilio %s webhook refused (%s signature)", webhook, problem)
    audit_record(
        action=actions.TWILIO_SIGNATURE_REJECTED,
        request=request,
        record=endpoint,
        details={
            "webhook": webhook,
            "problem": problem,
            "channel": endpoint.channel,
            "window_seconds": AUDIT_WINDOW_SECONDS,
        },
    )
