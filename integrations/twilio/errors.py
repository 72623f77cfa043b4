"""Twilio error codes in words a counsellor understands, and whether trying again can help.

Used for failed sends (the REST API's error) and for failed deliveries
(a status callback's ErrorCode). Reasons never contain a number or a message:
they are stored on the message and shown in the console.
See https://www.twilio.com/docs/api/errors for the codes.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpline.gateways import GatewayError

ASK_ADMIN = gettext_lazy("Tell an administrator.")

# Trying again sends the same thing to the same place: it will fail the same way.
PERMANENT = {
    20003: gettext_lazy("Twilio refused the line's account credentials. Tell an administrator."),
    20404: gettext_lazy("Twilio does not know the line's account or number. Tell an administrator."),
    21211: gettext_lazy("This is not a valid phone number, so the message cannot be sent."),
    21214: gettext_lazy("This phone number cannot be reached."),
    21408: gettext_lazy("The line's account may not send to this country. Tell an administrator."),
    21606: gettext_lazy("The line's number cannot send this kind of message. Tell an administrator."),
    21608: gettext_lazy(
        "The line's Twilio account is a trial account and can only write to verified numbers. Tell an administrator."
    ),
    21610: gettext_lazy(
        "This person has stopped messages from the line (they replied STOP). "
        "They can send START to receive messages again."
    ),
    21612: gettext_lazy("This number cannot receive text messages."),
    21614: gettext_lazy("This number cannot receive text messages (it may be a landline)."),
    21617: gettext_lazy("The message is too long for this channel. Shorten it and send it again."),
    21659: gettext_lazy("The line's number cannot send this kind of message. Tell an administrator."),
    21660: gettext_lazy("The line's number does not belong to its Twilio account. Tell an administrator."),
    30003: gettext_lazy("The phone is switched off or out of reach."),
    30004: gettext_lazy("The message was blocked; the person may have blocked the line's number."),
    30005: gettext_lazy("This number does not exist or is no longer in use."),
    30006: gettext_lazy("This number cannot receive text messages (a landline or an unreachable network)."),
    30007: gettext_lazy("The phone network filtered the message out as unwanted."),
    30008: gettext_lazy("The phone network could not deliver the message and did not say why."),
    63003: gettext_lazy("This number cannot be reached on WhatsApp."),
    63016: gettext_lazy(
        "WhatsApp only allows replies within 24 hours of the child's last message. Ask them to write again, or use SMS."
    ),
    63024: gettext_lazy("This number cannot receive WhatsApp messages."),
}

# The same request may well succeed in a moment.
TRANSIENT = {
    20429: gettext_lazy("Twilio is limiting how fast the line sends. Trying again shortly."),
    20500: gettext_lazy("Twilio had an internal error. Trying again shortly."),
    20503: gettext_lazy("Twilio is temporarily unavailable. Trying again shortly."),
    63018: gettext_lazy("WhatsApp is limiting how fast the line sends. Trying again shortly."),
}


def reason_for(code: int | str | None) -> str:
    """Plain words for a Twilio error code, known or not."""
    number = _as_int(code)
    if number in PERMANENT:
        return str(PERMANENT[number])
    if number in TRANSIENT:
        return str(TRANSIENT[number])
    if number is None:
        return _("The message could not be delivered.")
    return _("The message could not be delivered (Twilio error %(code)d). %(advice)s") % {
        "code": number,
        "advice": ASK_ADMIN,
    }


def error_for(*, code: int | str | None, http_status: int | None) -> GatewayError:
    """A GatewayError for a refused REST call: permanent unless trying again can help."""
    number = _as_int(code)
    code_text = str(number) if number is not None else ""
    if number in PERMANENT:
        return GatewayError(str(PERMANENT[number]), permanent=True, code=code_text)
    if number in TRANSIENT:
        return GatewayError(str(TRANSIENT[number]), permanent=False, code=code_text)
    if http_status == 429 or (http_status or 0) >= 500:
        return GatewayError(
            _("Twilio is busy or unavailable. Trying again shortly."),
            permanent=False,
            code=code_text or str(http_status),
        )
    if http_status == 401:
        return GatewayError(str(PERMANENT[20003]), permanent=True, code=code_text or "401")
    return GatewayError(reason_for(number), permanent=True, code=code_text)


def network_error() -> GatewayError:
    return GatewayError(_("Could not reach Twilio. Trying again shortly."), permanent=False, code="network")


def _as_int(code) -> int | None:
    try:
        return int(code)
    except (TypeError, ValueError):
        return None
