from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self):
        from cases.overdue import case_overdue_register
        from cases.timeline import timeline_source_register
        from helpline.alerts import supervisor_alert_source_register
        from helpline.demo import demo_extension_register
        from helpline.models import Role
        from helpline.navigation import nav_register
        from helpline.panes import console_pane_register
        from helpline.periodic import periodic_register
        from helpline.todo import console_todo_register
        from referrals import (
            actions,  # noqa: F401 - registers the audit actions of this app
            notices,  # noqa: F401 - registers the outbox of the portal's e-mail notices
            outbox,  # noqa: F401 - registers the referral outbox
        )
        from referrals.demo import demo_agencies
        from referrals.escalation import case_has_overdue_referral, referrals_escalate
        from referrals.panes import PANE
        from referrals.portal import PortalTransport
        from referrals.receivers import receivers_connect
        from referrals.selectors import (
            notices_for_supervisor,
            referral_alerts_for_supervisor,
            referral_timeline,
            steps_timeline,
        )
        from referrals.services.api_keys import idempotent_requests_expire
        from referrals.todo import agency_question_items
        from referrals.transports import transport_register

        nav_register(role=Role.AUTHORITY, label=_("Referrals inbox"), url_name="referrals:inbox", order=10)
        nav_register(role=Role.SUPERVISOR, label=_("Referrals"), url_name="referrals:attention", order=40)
        transport_register(PortalTransport())
        demo_extension_register(demo_agencies)
        periodic_register(name="referrals.escalate", every=timedelta(minutes=1), run=referrals_escalate)
        periodic_register(name="referrals.idempotency_expire", every=timedelta(hours=1), run=idempotent_requests_expire)
        receivers_connect()
        timeline_source_register(referral_timeline)
        timeline_source_register(steps_timeline)
        supervisor_alert_source_register(
            name="sop_notices", template="referrals/notice_alert.html", rows=notices_for_supervisor
        )
        supervisor_alert_source_register(
            name="referral_attention",
            template="referrals/referral_alert.html",
            rows=referral_alerts_for_supervisor,
            order=110,
        )
        console_pane_register(**PANE)
        console_todo_register(name="referrals.agency_questions", source=agency_question_items, order=10)
        case_overdue_register(name="referral_acknowledgement", condition=case_has_overdue_referral)
