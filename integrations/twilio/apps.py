from django.apps import AppConfig


class TwilioConfig(AppConfig):
    name = "integrations.twilio"
    label = "twilio"
    verbose_name = "Twilio"

    def ready(self):
        from integrations.twilio import actions  # noqa: F401 - registers the audit actions of this integration
        from integrations.twilio.signals import signals_connect

        signals_connect()
