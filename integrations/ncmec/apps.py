from django.apps import AppConfig


class NcmecConfig(AppConfig):
    name = "integrations.ncmec"
    label = "ncmec"
    verbose_name = "NCMEC CyberTipline"

    def ready(self):
        from integrations.ncmec.transport import NcmecTransport
        from referrals.transports import transport_register

        transport_register(NcmecTransport())
