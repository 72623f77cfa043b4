from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from cases import actions, receivers  # noqa: F401 - actions registers the audit actions cases emits
        from cases.services.retention import retention_run
        from helpline.periodic import periodic_register

        receivers.connect()
        # Retention deadlines are days long: hourly is plenty, and a run that finds nothing is cheap.
        periodic_register(name="cases.retention_run", every=timedelta(hours=1), run=retention_run)
