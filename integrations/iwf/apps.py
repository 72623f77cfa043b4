from django.apps import AppConfig


class IwfConfig(AppConfig):
    name = "integrations.iwf"
    label = "iwf"
    verbose_name = "Internet Watch Foundation"

    def ready(self):
        from integrations.iwf.transport import IwfTransport
        from referrals.transports import transport_register

        transport_register(IwfTransport())
