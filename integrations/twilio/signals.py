"""What the Twilio integration listens to, connected once from TwilioConfig.ready().

The webhooks keep endpoints (with their line and token) for a few seconds
(integrations.twilio.endpoints). Saving or deleting an endpoint or a line in
this process forgets them at once; other processes follow within
``endpoints.CACHE_SECONDS``.
"""

from django.db.models.signals import post_delete, post_save

from helpline.models import ChannelEndpoint, Helpline
from integrations.twilio.endpoints import endpoint_cache_clear


def endpoints_changed(sender, **kwargs) -> None:
    """An endpoint or a line was saved or deleted: the cached endpoints may be stale."""
    endpoint_cache_clear()


def signals_connect() -> None:
    for model in (ChannelEndpoint, Helpline):
        post_save.connect(endpoints_changed, sender=model, dispatch_uid=f"twilio-endpoints-saved-{model.__name__}")
        post_delete.connect(endpoints_changed, sender=model, dispatch_uid=f"twilio-endpoints-deleted-{model.__name__}")
