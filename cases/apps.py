from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from cases import actions, receivers  # noqa: F401 - actions registers the audit actions cases emits
        from cases.demo import cases_demo
        from cases.selectors.supervision import supervision_timeline
        from cases.services import approvals  # noqa: F401 - registers the case-closure approval kind
        from cases.services.retention import retention_run
        from cases.timeline import timeline_source_register
        from cases.views.wrapup import wrapup_pane_context
        from helpline.demo import demo_extension_register
        from helpline.models import ContactStatus, Role
        from helpline.navigation import nav_register
        from helpline.panes import console_pane_register
        from helpline.periodic import periodic_register

        receivers.connect()
        nav_register(role=Role.COUNSELLOR, label=_("Cases"), url_name="cases:case_list", order=20)
        nav_register(role=Role.SUPERVISOR, label=_("Caseloads"), url_name="cases:supervision", order=15)
        nav_register(role=Role.SUPERVISOR, label=_("Cases"), url_name="cases:case_list", order=16)
        for role in (Role.COUNSELLOR, Role.SUPERVISOR):
            nav_register(role=role, label=_("Log a contact"), url_name="cases:contact_log", order=60)
        console_pane_register(
            name="wrapup",
            template="cases/wrapup_pane.html",
            context=wrapup_pane_context,
            statuses=(ContactStatus.ACTIVE, ContactStatus.WRAPUP),
            order=10,
        )
        timeline_source_register(supervision_timeline)
        demo_extension_register(cases_demo)
        # Retention deadlines are days long: hourly is plenty, and a run that finds nothing is cheap.
        periodic_register(name="cases.retention_run", every=timedelta(hours=1), run=retention_run)
