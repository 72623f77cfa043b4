"""The audit actions the Twilio integration emits, registered at import (see integrations.twilio.apps)."""

from django.utils.translation import gettext_lazy as _

from helpline.audit.actions import action_register

TWILIO_SIGNATURE_REJECTED = action_register("twilio.signature_rejected", _("Twilio signature rejected"))
