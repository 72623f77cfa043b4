from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from cases import actions, receivers  # noqa: F401 - actions registers the audit actions cases emits
        from cases.selectors.supervision import supervision_timeline
        from cases.services import approvals  # noqa: F401 - registers the case-closure approval kind
        from cases.services.retention import retention_run
        from cases.timeline import timeline_source_register
        from helpline.models import Role
        from helpline.navigation import nav_register
        from helpline.periodic import periodic_register

        receivers.connect()
        nav_register(role=Role.COUNSELLOR, label=_("Cases"), url_name="cases:case_list", order=20)
        nav_register(role=Role.SUPERVISOR, label=_("Caseloads"), url_name="cases:supervision", order=15)
        nav_register(role=Role.SUPERVISOR, label=_("Cases"), url_name="cases:case_list", order=16)
        timeline_source_register(supervision_timeline)
        # Retention deadlines are days long: hourly is plenty, and a run that finds nothing is cheap.
        periodic_register(name="cases.retention_run", every=timedelta(hours=1), run=retention_run)
