from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self):
        from helpline.models import Role
        from helpline.navigation import nav_register

        nav_register(role=Role.AUTHORITY, label=_("Referrals inbox"), url_name="referrals:inbox", order=10)
