"""The e-mail notice transport: one message through Django's e-mail backend, failures in plain words
(referrals.notices.notice_send, shared with the portal's own notices)."""

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from helpline.outbox import DeliveryError
from integrations.email.notice import notice_message, recipients_of
from referrals.notices import notice_send
from referrals.transports import DeliveryReceipt, DeliveryRequest, Rendered

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 20


class EmailNoticeTransport:
    name = "email"
    label = "E-mail notice (a link to the portal, no case content)"
    config_fields = ("recipients",)
    secret_fields = ()

    def validate_config(self, config: dict, secrets: dict) -> list[str]:
        recipients = recipients_of(config)
        if not recipients:
            return [_("Enter at least one e-mail address to notify.")]
        problems = []
        for address in recipients:
            try:
                validate_email(address)
            except ValidationError:
                problems.append(_("“%(address)s” is not an e-mail address.") % {"address": address[:100]})
        if len(recipients) > MAX_RECIPIENTS:
            problems.append(_("Notify at most %(max)d addresses; use a group address.") % {"max": MAX_RECIPIENTS})
        return problems

    def render(self, request: DeliveryRequest) -> Rendered:
        message = notice_message(request.document, request.config, request.idempotency_key)
        return Rendered("message/rfc822", message.message().as_bytes())

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        problems = self.validate_config(request.config, request.secrets)
        if problems:
            raise DeliveryError(
                _("The agency's e-mail notice settings are incomplete: %(problems)s")
                % {"problems": " ".join(problems)},
                permanent=True,
                code="config",
            )
        message = notice_message(request.document, request.config, request.idempotency_key)
        notice_send(message, key=request.idempotency_key)
        logger.info("E-mail notice sent for delivery %s", request.idempotency_key)
        return DeliveryReceipt(detail=_("E-mail notice sent to %(count)d address(es).") % {"count": len(message.to)})
