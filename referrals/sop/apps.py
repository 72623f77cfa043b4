from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SopConfig(AppConfig):
    name = "referrals.sop"
    label = "sop"
    verbose_name = _("Standard operating procedures")

    def ready(self):
        from helpline.demo import demo_extension_register
        from helpline.models import Role
        from helpline.navigation import nav_register
        from referrals.sop import actions  # noqa: F401 - registers the audit actions of SOPs
        from referrals.sop.demo import sop_demo_load

        # After the administration site (order 10), which stays the administrators' first page.
        nav_register(role=Role.ADMIN, label=_("SOPs"), url_name="sop:index", order=30)
        demo_extension_register(sop_demo_load)
