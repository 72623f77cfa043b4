from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "helpline.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from helpline.audit import checks, signals  # noqa: F401
