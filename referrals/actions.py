"""The audit actions the referrals app emits, registered at import (referrals.apps imports this module)."""

from django.utils.translation import gettext_lazy as _

from helpline.audit.actions import action_register

# The agency directory (referrals.services.agencies).
AGENCY_CREATED = action_register("agency.created", _("Agency created"))
AGENCY_UPDATED = action_register("agency.updated", _("Agency changed"))
AGENCY_SECRETS_CHANGED = action_register("agency.secrets_changed", _("Agency delivery secrets replaced"))
AGENCY_MEMBERSHIP_SET = action_register("agency.membership_set", _("Authority user's agency set"))
AGENCY_MEMBERSHIP_REMOVED = action_register("agency.membership_removed", _("Authority user's agency removed"))
