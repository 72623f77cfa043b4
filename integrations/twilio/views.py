"""Twilio's webhooks: inbound messages and delivery status callbacks.

Thin: find the endpoint, check the signature, parse (integrations.twilio.inbound),
hand over to helpline.services (inbound, outbound). Nothing is stored unless the signature holds.
Replies never go back in the TwiML: they go out through the REST API (the
gateway), so the webhook answers at once with an empty response.
"""

import logging
from collections.abc import Callable

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseNotFound
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from helpline.access import public
from helpline.models import Channel, Direction, Message
from helpline.services.inbound import message_receive
from helpline.services.outbound import message_status_update
from helpline.vault.services import unseal
from integrations.twilio.endpoints import Found, endpoint_find
from integrations.twilio.errors import reason_for
from integrations.twilio.inbound import MalformedWebhook, address_split, inbound_parse, status_parse
from integrations.twilio.security import signature_problem, signature_rejected

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
TWILIO_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


@public
@csrf_exempt
@require_POST
def messages(request):
    """An inbound SMS or WhatsApp message, addressed to one of our endpoints by ``To``."""
    channel, address = address_split(request.POST.get("To", ""))
    found, refusal = _signed(request, "message", lambda fresh: endpoint_find(channel, address, fresh=fresh))
    if refusal:
        return refusal
    try:
        inbound = inbound_parse(request.POST)
        message_receive(
            endpoint=found.endpoint,
            sender=inbound.sender,
            body=inbound.body,
            provider_id=inbound.sid,
            media=list(inbound.media),
        )
    except ValueError as exc:  # MalformedWebhook, or a limit enforced by message_receive
        logger.warning("Twilio message webhook refused: %s", type(exc).__name__)
        text = str(exc) if isinstance(exc, MalformedWebhook) else _("The message was refused.")
        return HttpResponseBadRequest(text, content_type="text/plain")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


@public
@csrf_exempt
@require_POST
def status(request):
    """Delivery status of a message we sent. Answered 200 whenever signed, so Twilio does not retry."""
    found, refusal = _signed(request, "status", lambda fresh: _status_endpoint(request.POST, fresh=fresh))
    if refusal:
        return refusal
    try:
        callback = status_parse(request.POST)
    except MalformedWebhook as exc:
        logger.warning("Twilio status callback refused: malformed")
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    if callback.status is not None:
        message_status_update(
            endpoint=found.endpoint,
            provider_id=callback.sid,
            status=callback.status,
            error_code=callback.error_code,
            error_message=reason_for(callback.error_code) if callback.error_code else "",
        )
    return HttpResponse("", content_type="text/plain")


def _signed(request, webhook: str, lookup: Callable[[bool], Found | None]) -> tuple[Found | None, HttpResponse | None]:
    """The endpoint, if the request is signed with its token; otherwise the response refusing it."""
    found = lookup(False)
    problem = signature_problem(request, found.token) if found else None
    if problem and found.cached:
        # The token may have changed in the last few seconds: check against the database before refusing.
        found = lookup(True)
        problem = signature_problem(request, found.token) if found else None
    if found is None:
        # The number itself stays out of the log; an operator checks the Twilio console.
        logger.warning("Twilio %s webhook for a number with no active endpoint", webhook)
        return None, HttpResponseNotFound(_("No active endpoint for this number."), content_type="text/plain")
    if problem:
        signature_rejected(request, endpoint=found.endpoint, problem=problem, webhook=webhook)
        return None, HttpResponseForbidden(_("Invalid Twilio signature."), content_type="text/plain")
    return found, None


def _status_endpoint(params, *, fresh: bool) -> Found | None:
    """The endpoint whose token signed this callback.

    The message's own endpoint when we know the SID (the exact account that
    sent it); otherwise the line number in ``From`` (a status callback's ``To``
    is the person we wrote to), so a callback for an unknown SID is still
    checked and answered.
    """
    sid = params.get("MessageSid", "")
    if sid:
        rows = Message.objects.select_related("contact__endpoint__line", "contact__endpoint__data_key").filter(
            provider_id=sid, channel__in=TWILIO_CHANNELS, direction=Direction.OUTBOUND
        )[:1]
        message = next(iter(rows), None)
        if message is not None and message.contact.endpoint.active:
            endpoint = message.contact.endpoint
            token = unseal(endpoint, "provider_secret")
            return Found(endpoint=endpoint, token=token if isinstance(token, str) else "", cached=False)
    channel, address = address_split(params.get("From", ""))
    return endpoint_find(channel, address, fresh=fresh)
