from django.apps import AppConfig


class WebhookConfig(AppConfig):
    name = "integrations.webhook"
    label = "webhook"
    verbose_name = "Signed webhook"

    def ready(self):
        from integrations.webhook.transport import WebhookTransport
        from referrals.transports import transport_register

        transport_register(WebhookTransport())
