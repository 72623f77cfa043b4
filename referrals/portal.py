"""The portal-only transport: nothing leaves the platform; the agency reads the referral in its inbox.

"Delivered" means the sealed document is stored and the referral is addressed to
the agency, so its authority users see it at ``/authority/`` (the Authority issue
builds the full inbox). It has no settings and no secrets.
"""

import json

from django.utils.translation import gettext_lazy as _

from referrals.transports import DeliveryReceipt, DeliveryRequest, Rendered


class PortalTransport:
    name = "portal"
    label = _("Authority portal only (the agency reads it in its inbox)")
    config_fields: tuple[str, ...] = ()
    secret_fields: tuple[str, ...] = ()

    def validate_config(self, config: dict, secrets: dict) -> list[str]:
        return []

    def render(self, request: DeliveryRequest) -> Rendered:
        body = json.dumps(request.document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return Rendered("application/json", body.encode("utf-8"))

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        return DeliveryReceipt(detail=str(_("Available in the agency's inbox.")))
