"""Sending SMS and WhatsApp messages through Twilio's REST API (helpline.gateways.Gateway).

One REST call per message, made by the background task outside any
transaction. What can go wrong is turned into a GatewayError in plain words
(integrations.twilio.errors); nothing here logs a number or a message body.
"""

import logging
import threading
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from helpline.gateways import GatewayError, Outgoing, SendResult
from helpline.models import Channel, MessageStatus
from helpline.models.conversations import STATUS_RANK
from integrations.twilio.errors import error_for, network_error
from integrations.twilio.inbound import STATUS_MAP, WHATSAPP_PREFIX
from integrations.twilio.security import public_url

logger = logging.getLogger(__name__)

# Seconds to wait for Twilio before giving up this attempt (it is retried).
TIMEOUT_SECONDS = 15
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# The demo line's endpoints use this account: nothing is sent anywhere (see integrations.twilio.demo).
DEMO_ACCOUNT_SID = "AC" + "de70" * 8


class QuietHttpClient(TwilioHttpClient):
    """Twilio's requests-based client, minus its INFO log of every request and response header.

    With ``settings.TWILIO_API_BASE_URL`` set (tests only) every request goes to
    that address instead of https://*.twilio.com, keeping path and query; only a
    loopback address is accepted, so a setting can never send children's
    messages to some other host.
    """

    def request(self, method, url, *args, **kwargs):
        return super().request(method, _rebase(url, settings.TWILIO_API_BASE_URL), *args, **kwargs)

    def log_request(self, kwargs):
        pass

    def log_response(self, status_code, response):
        pass


def _rebase(url: str, base: str) -> str:
    if not base:
        return url
    target = urlsplit(base)
    if target.scheme not in {"http", "https"} or target.hostname not in LOOPBACK_HOSTS:
        raise ImproperlyConfigured("TWILIO_API_BASE_URL may only point at a loopback address (a local fake).")
    original = urlsplit(url)
    return urlunsplit(
        (target.scheme, target.netloc, target.path.rstrip("/") + original.path, original.query, original.fragment)
    )


class TwilioGateway:
    """Stateless apart from a pool of HTTP connections per thread (requests sessions are not thread-safe)."""

    def __init__(self):
        self._local = threading.local()

    def _http_client(self) -> QuietHttpClient:
        client = getattr(self._local, "http_client", None)
        if client is None:
            client = self._local.http_client = QuietHttpClient(timeout=TIMEOUT_SECONDS)
        return client

    def send(self, outgoing: Outgoing) -> SendResult:
        if not outgoing.to:
            # The contact's data key was destroyed: there is nobody left to write to.
            raise GatewayError(
                _("This conversation's details were deleted; the message cannot be sent."), permanent=True
            )
        if not (outgoing.endpoint_account and outgoing.endpoint_secret):
            raise GatewayError(
                _("The line's number has no Twilio account configured. Tell an administrator."), permanent=True
            )
        if outgoing.endpoint_account == DEMO_ACCOUNT_SID:
            logger.info("Demo endpoint: message %s not sent anywhere", outgoing.message_id)
            return SendResult(provider_id=None, status=MessageStatus.SENT)
        prefix = WHATSAPP_PREFIX if outgoing.channel == Channel.WHATSAPP else ""
        client = Client(outgoing.endpoint_account, outgoing.endpoint_secret, http_client=self._http_client())
        try:
            created = client.messages.create(
                to=prefix + outgoing.to,
                from_=prefix + outgoing.endpoint_address,
                body=outgoing.body,
                status_callback=public_url("twilio:status"),
            )
        except TwilioRestException as exc:
            error = error_for(code=exc.code, http_status=exc.status)
            logger.warning("Twilio refused message %s: HTTP %s, code %s", outgoing.message_id, exc.status, exc.code)
            raise error from None
        except TwilioServiceException as exc:
            error = error_for(code=exc.code, http_status=exc.status)
            logger.warning("Twilio refused message %s: HTTP %s, code %s", outgoing.message_id, exc.status, exc.code)
            raise error from None
        except ImproperlyConfigured:
            logger.error("TWILIO_API_BASE_URL is not a loopback address; message %s not sent", outgoing.message_id)
            raise GatewayError(
                _("Sending is misconfigured on this server. Tell an administrator."), permanent=True, code="config"
            ) from None
        except requests.RequestException as exc:
            # Timeouts included: Twilio may or may not have taken it; a retry may send twice,
            # which is better for a child than not at all.
            logger.warning("Could not reach Twilio for message %s: %s", outgoing.message_id, type(exc).__name__)
            raise network_error() from None
        status = STATUS_MAP.get((created.status or "").lower(), MessageStatus.SENDING)
        if STATUS_RANK[status] < STATUS_RANK[MessageStatus.SENDING]:
            # "queued"/"accepted": Twilio has it, so it is on its way.
            status = MessageStatus.SENDING
        return SendResult(provider_id=created.sid, status=status)
