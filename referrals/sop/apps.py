from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SopConfig(AppConfig):
    name = "referrals.sop"
    label = "sop"
    verbose_name = _("Standard operating procedures")
