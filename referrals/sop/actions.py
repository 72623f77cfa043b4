"""The audit actions of SOP versions (registered when referrals.sop's AppConfig imports this module)."""

from django.utils.translation import gettext_lazy as _

from helpline.audit.actions import action_register

SOP_DRAFT_SAVED = action_register("sop.draft_saved", _("SOP draft saved"))
SOP_IMPORTED = action_register("sop.imported", _("SOP imported"))
SOP_ACTIVATED = action_register("sop.activated", _("SOP activated"))
SOP_EXPORTED = action_register("sop.exported", _("SOP exported"))
SOP_DRY_RUN = action_register("sop.dry_run", _("SOP tried against a case"))
