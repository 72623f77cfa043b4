from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from helpline.models import ChannelEndpoint, Helpline
        from integrations.twilio.endpoints import endpoint_cache_clear

        # The Twilio webhooks keep endpoints (and their line) for a few seconds; a change here forgets them.
        for model in (ChannelEndpoint, Helpline):
            post_save.connect(endpoint_cache_clear, sender=model, dispatch_uid=f"twilio-endpoints-{model.__name__}")
            post_delete.connect(
                endpoint_cache_clear, sender=model, dispatch_uid=f"twilio-endpoints-del-{model.__name__}"
            )
