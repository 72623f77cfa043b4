from django.apps import AppConfig


class EmailNoticeConfig(AppConfig):
    name = "integrations.email"
    label = "email_notice"
    verbose_name = "E-mail notice"

    def ready(self):
        from integrations.email.transport import EmailNoticeTransport
        from referrals.transports import transport_register

        transport_register(EmailNoticeTransport())
