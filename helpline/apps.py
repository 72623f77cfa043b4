from datetime import timedelta

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext_lazy as _


class HelplineConfig(AppConfig):
    default = True
    name = "helpline"
    verbose_name = _("Helpline")

    def ready(self):
        from helpline import (
            actions,  # noqa: F401 - registers the audit actions helpline emits
            lookups,  # noqa: F401 - registers JSONField's has_item (PostgreSQL and SQLite)
        )
        from helpline.audit.linker import audit_link_pending
        from helpline.models import Role
        from helpline.navigation import nav_register
        from helpline.outbox import outbox_overdue_deliver, outboxes_sweep
        from helpline.periodic import periodic_register
        from helpline.services import outbound  # noqa: F401 - registers the message outbox
        from helpline.services.inbound import inbound_receipts_expire
        from helpline.services.logins import login_unlock_spend
        from helpline.services.outbound import pending_statuses_expire
        from helpline.services.sessions import sessions_clear_expired

        nav_register(role=Role.COUNSELLOR, label=_("Console"), url_name="helpline:console", order=10)
        nav_register(role=Role.SUPERVISOR, label=_("Supervision"), url_name="helpline:supervisor", order=10)
        nav_register(role=Role.SUPERVISOR, label=_("Console"), url_name="helpline:console", order=20)
        nav_register(role=Role.SUPERVISOR, label=_("Blocked senders"), url_name="helpline:supervisor_blocks", order=40)
        nav_register(role=Role.SUPERVISOR, label=_("Sign-in lockouts"), url_name="helpline:login_lockouts", order=30)
        nav_register(role=Role.ADMIN, label=_("Administration"), url_name="admin:index", order=10)

        # Every tick: events wait for their place in the audit chain only seconds (docs/AUDIT.md).
        periodic_register(name="audit.link", every=timedelta(seconds=4), run=audit_link_pending)
        periodic_register(name="outbox.sweep", every=timedelta(minutes=1), run=outboxes_sweep)
        # Every tick: a reply whose process died before delivering it waits no more than the grace and a tick.
        periodic_register(name="outbox.overdue", every=timedelta(seconds=4), run=outbox_overdue_deliver)
        periodic_register(name="sessions.clear_expired", every=timedelta(hours=1), run=sessions_clear_expired)
        periodic_register(name="inbound.receipts_expire", every=timedelta(hours=1), run=inbound_receipts_expire)
        periodic_register(
            name="outbound.pending_statuses_expire", every=timedelta(minutes=10), run=pending_statuses_expire
        )

        # A supervisor's unlock lasts until the colleague it was for gets in.
        user_logged_in.connect(
            lambda sender, user, **kwargs: login_unlock_spend(user=user),
            weak=False,
            dispatch_uid="helpline_login_unlock_spend",
        )


class HelplineAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with the platform's site (helpline.admin_site) as the default one."""

    default = False  # "helpline" itself is HelplineConfig
    default_site = "helpline.admin_site.HelplineAdminSite"
