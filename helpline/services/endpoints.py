"""Write paths for a line's endpoints: its SMS and WhatsApp numbers and its web chat page.

A number's provider secret (Twilio's auth token) is sealed under the endpoint's own
data key the moment it arrives and is never returned, shown, logged or audited: the
audit events name the endpoint, its channel and its line. Only administrators change
endpoints (``actor=None`` is the system: a management command, the demo).

Webhook handlers keep endpoints for a few seconds (integrations.twilio.endpoints);
saving here sends the post_save signal that clears that cache in this process.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpline import actions
from helpline.access import is_administrator
from helpline.audit.services import audit_record
from helpline.models import Channel, ChannelEndpoint, Helpline
from helpline.vault.blind_index import phone_normalise
from helpline.vault.services import datakey_create, seal

# Channels whose provider needs an account and a secret (the web chat needs neither).
PROVIDER_CHANNELS = (Channel.SMS, Channel.WHATSAPP)
MAX_SECRET_LENGTH = 256


def _require_administrator(actor) -> None:
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator can change a line's numbers."))


def endpoint_address_clean(*, channel: str, address: str) -> str:
    """A number in E.164 (spaces and a ``whatsapp:`` prefix removed); ValidationError naming no digits."""
    if channel not in PROVIDER_CHANNELS:
        raise ValidationError({"channel": _("Choose SMS or WhatsApp; the web chat page comes with its line.")})
    text = (address or "").strip()
    if not text.startswith("+") and not text.lower().startswith("whatsapp:"):
        raise ValidationError({"address": _("Enter the number in international format, starting with +.")})
    try:
        return phone_normalise(text)
    except ValueError:
        raise ValidationError(
            {"address": _("This is not a possible phone number (check the country code and length).")}
        ) from None


def endpoint_secret_clean(secret: str) -> str:
    text = (secret or "").strip()
    if not text:
        raise ValidationError({"secret": _("Enter the provider's auth token.")})
    if len(text) > MAX_SECRET_LENGTH or any(character.isspace() for character in text):
        raise ValidationError(
            {"secret": _("An auth token is one word of at most 256 characters; check what was pasted.")}
        )
    return text


def _details(endpoint: ChannelEndpoint) -> dict:
    return {"channel": endpoint.channel, "line": endpoint.line.slug}


@transaction.atomic
def endpoint_create(
    *,
    actor,
    line: Helpline,
    channel: str,
    address: str,
    provider_account: str,
    secret: str,
    active: bool = True,
    reason: str = "",
) -> ChannelEndpoint:
    """A new SMS or WhatsApp number of ``line``, its provider secret sealed at once."""
    _require_administrator(actor)
    address = endpoint_address_clean(channel=channel, address=address)
    provider_account = (provider_account or "").strip()
    if not provider_account:
        raise ValidationError(
            {"provider_account": _("Enter the provider's account identifier (Twilio: the Account SID).")}
        )
    secret = endpoint_secret_clean(secret)
    taken = ChannelEndpoint.objects.filter(channel=channel, address=address).select_related("line").first()
    if taken is not None:
        message = _("This number is already connected for %(channel)s, to the line %(line)s.") % {
            "channel": taken.get_channel_display(),
            "line": taken.line.name,
        }
        raise ValidationError({"address": message})
    endpoint = ChannelEndpoint(
        line=line,
        channel=channel,
        address=address,
        provider_account=provider_account,
        active=active,
        data_key=datakey_create(),
    )
    seal(endpoint, "provider_secret", secret)
    endpoint.save(force_insert=True)
    audit_record(
        action=actions.ENDPOINT_CREATED, actor=actor, record=endpoint, reason=reason, details=_details(endpoint)
    )
    return endpoint


@transaction.atomic
def webchat_endpoint_create(*, actor, line: Helpline) -> ChannelEndpoint:
    """The line's web chat page (address = the line's slug); it has no provider secret."""
    _require_administrator(actor)
    endpoint = ChannelEndpoint(line=line, channel=Channel.WEBCHAT, address=line.slug, data_key=datakey_create())
    seal(endpoint, "provider_secret", "")
    endpoint.save(force_insert=True)
    audit_record(action=actions.ENDPOINT_CREATED, actor=actor, record=endpoint, details=_details(endpoint))
    return endpoint


@transaction.atomic
def endpoint_token_rotate(*, actor, endpoint: ChannelEndpoint, secret: str, reason: str = "") -> ChannelEndpoint:
    """Replace a number's provider secret (after rotating it at the provider: webhooks signed
    with the new token are refused until this is done)."""
    _require_administrator(actor)
    endpoint = ChannelEndpoint.objects.select_for_update().select_related("line", "data_key").get(pk=endpoint.pk)
    if endpoint.channel not in PROVIDER_CHANNELS:
        raise ValidationError(_("A web chat page has no token to replace."))
    seal(endpoint, "provider_secret", endpoint_secret_clean(secret))
    endpoint.save(update_fields=["provider_secret"])
    audit_record(
        action=actions.ENDPOINT_TOKEN_ROTATED, actor=actor, record=endpoint, reason=reason, details=_details(endpoint)
    )
    return endpoint


@transaction.atomic
def endpoint_activate(*, actor, endpoint: ChannelEndpoint, reason: str = "") -> ChannelEndpoint:
    """Switch a number (or web chat page) on: it receives messages again."""
    return _active_set(actor=actor, endpoint=endpoint, active=True, reason=reason)


@transaction.atomic
def endpoint_deactivate(*, actor, endpoint: ChannelEndpoint, reason: str = "") -> ChannelEndpoint:
    """Switch a number off: its webhooks get 404 and nothing is stored; the chat page is gone."""
    return _active_set(actor=actor, endpoint=endpoint, active=False, reason=reason)


def _active_set(*, actor, endpoint: ChannelEndpoint, active: bool, reason: str) -> ChannelEndpoint:
    _require_administrator(actor)
    endpoint = ChannelEndpoint.objects.select_for_update().select_related("line").get(pk=endpoint.pk)
    if endpoint.active == active:
        return endpoint
    endpoint.active = active
    endpoint.save(update_fields=["active"])
    action = actions.ENDPOINT_ACTIVATED if active else actions.ENDPOINT_DEACTIVATED
    audit_record(action=action, actor=actor, record=endpoint, reason=reason, details=_details(endpoint))
    return endpoint
