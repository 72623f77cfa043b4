from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self):
        from helpline.demo import demo_extension_register
        from helpline.models import Role
        from helpline.navigation import nav_register
        from referrals import actions  # noqa: F401 - registers the audit actions of this app
        from referrals.demo import demo_agencies
        from referrals.portal import PortalTransport
        from referrals.transports import transport_register

        nav_register(role=Role.AUTHORITY, label=_("Referrals inbox"), url_name="referrals:inbox", order=10)
        transport_register(PortalTransport())
        demo_extension_register(demo_agencies)
