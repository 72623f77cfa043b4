from django.apps import AppConfig


class CpimsConfig(AppConfig):
    name = "integrations.cpims"
    label = "cpims"
    verbose_name = "Kenya CPIMS"

    def ready(self):
        from integrations.cpims.transport import CpimsTransport
        from referrals.transports import transport_register

        transport_register(CpimsTransport())
