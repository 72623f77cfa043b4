from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TwilioConfig(AppConfig):
    name = "integrations.twilio"
    label = "twilio"
    verbose_name = "Twilio"

    def ready(self):
        from helpline.models import ChannelEndpoint, Helpline
        from integrations.twilio import actions  # noqa: F401 - registers the audit actions of this integration
        from integrations.twilio.endpoints import endpoint_cache_clear

        # The webhooks keep endpoints (and their line) for a few seconds; a change here forgets them.
        for model in (ChannelEndpoint, Helpline):
            post_save.connect(endpoint_cache_clear, sender=model, dispatch_uid=f"twilio-endpoints-{model.__name__}")
            post_delete.connect(
                endpoint_cache_clear, sender=model, dispatch_uid=f"twilio-endpoints-del-{model.__name__}"
            )
