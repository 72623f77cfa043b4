"""The referral outbox: each ``Delivery`` handed to its agency's transport, at least once, never lost.

The machinery (atomic hand-over, SKIP LOCKED claims, backoff with jitter, a maximum of
attempts, resuming what a dead worker left) is ``helpline.outbox``; this module says what a
referral delivery is. The idempotency key of every attempt is the delivery's id, so a retry
after a crash is the same referral to the receiver. What the transport gets is the document
sealed at queueing, unsealed here for the worker only, and the agency's secrets.

Exhausted retries and permanent failures mark the referral failed and alert the line's
supervisors (referrals.alerts).
"""

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpline.audit.services import audit_record_many
from helpline.bulk import locked_update
from helpline.outbox import DeliveryError, Outbox, outbox_attempt, outbox_register
from helpline.retry import RetryPolicy
from helpline.vault.models import DataKey
from helpline.vault.services import unseal_row
from helpline.vault.values import Shredded
from referrals import actions
from referrals.alerts import supervisors_alert
from referrals.lifecycle import Status
from referrals.models import Agency, Delivery, DeliveryStatus, NoticeKind, Referral
from referrals.portal import PortalTransport
from referrals.services.agencies import agency_secrets
from referrals.services.events import OUTBOX_NAME, referral_event_add, referral_move, referrals_move_locked
from referrals.services.notices import agency_notice_queue
from referrals.transports import TRANSPORT_VIA, DeliveryReceipt, DeliveryRequest, transport_get

PORTAL = PortalTransport.name


@dataclass(frozen=True)
class Handover:
    delivery_id: str
    transport: str
    request: DeliveryRequest
    # The referral is no longer queued (withdrawn before its delivery was claimed): nothing may be sent.
    withdrawn: bool = False


@dataclass(frozen=True)
class _Remember:
    """``DeliveryRequest.remember`` for one delivery; a plain object, so a hand-over pickles (the sender process)."""

    delivery_id: str

    def __call__(self, kept: dict) -> None:
        # Outside the outbox's transactions (send runs outside any): committed at once.
        Delivery.objects.filter(pk=self.delivery_id).update(progress=dict(kept))


class ReferralOutbox(Outbox):
    name = OUTBOX_NAME
    model = Delivery

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=settings.REFERRAL_DELIVERY_MAX_ATTEMPTS,
            base_seconds=settings.REFERRAL_DELIVERY_RETRY_SECONDS,
            max_seconds=3600,
        )

    def batch_size(self) -> int:
        return max(1, settings.REFERRAL_DELIVERY_BATCH)

    def pending(self):
        return Q(status=DeliveryStatus.PENDING)

    def in_flight(self):
        return Q(status=DeliveryStatus.SENDING)

    def claimed(self) -> dict:
        return {"status": DeliveryStatus.SENDING}

    def begin(self, delivery: Delivery):
        [handover] = self.begin_rows([str(delivery.pk)])
        delivery.status = DeliveryStatus.SENDING
        return handover, ["status"]

    def begin_rows(self, ids: list[str]) -> list[Handover]:
        """The batch's hand-overs from plain rows: one query for the deliveries with their referral's sealed
        document, one for the case keys, one for the agencies; each key unwrapped and each agency's secrets
        unsealed once per batch (never kept beyond it)."""
        rows = {
            str(row[0]): row
            for row in Delivery.objects.filter(pk__in=ids).values_list(
                "pk", "transport", "progress", "referral_id", "referral__document",
                "referral__case__data_key", "referral__agency", "referral__status",
            )
        }  # fmt: skip
        keys = DataKey.objects.in_bulk({row[5] for row in rows.values()})
        agencies = Agency.objects.select_related("data_key").in_bulk({row[6] for row in rows.values()})
        secrets = {pk: agency_secrets(agency) for pk, agency in agencies.items()}
        handovers = []
        for pk in ids:
            _, transport, progress, referral_id, sealed, key_id, agency_id, status = rows[pk]
            if status != Status.QUEUED:
                # Withdrawn while its delivery waited: the document is not even unsealed.
                handovers.append(Handover(pk, transport, None, withdrawn=True))
                continue
            text = unseal_row(
                model=Referral, field_name="document", pk=referral_id, sealed=sealed, data_key=keys[key_id]
            )
            document = None if isinstance(text, Shredded) or not text else json.loads(text)
            request = DeliveryRequest(
                document=document or {},
                idempotency_key=pk,
                config=dict(agencies[agency_id].transport_config),
                secrets=dict(secrets[agency_id]),
                progress=dict(progress or {}),
                remember=_Remember(pk),
            )
            handovers.append(Handover(pk, transport, request if document else None))
        return handovers

    def send(self, handover: Handover) -> DeliveryReceipt:
        if handover.withdrawn:
            raise DeliveryError(
                _("The referral was withdrawn before it was sent; nothing was sent."), permanent=True, code="withdrawn"
            )
        if handover.request is None:
            raise DeliveryError(
                _("The case's content was destroyed; nothing can be sent."), permanent=True, code="gone"
            )
        try:
            transport = transport_get(handover.transport)
        except LookupError:
            raise DeliveryError(
                _("The agency's delivery method is not installed."), permanent=True, code="transport"
            ) from None
        return transport.deliver(handover.request)

    @staticmethod
    def _delivered() -> dict:
        return {"status": DeliveryStatus.DELIVERED, "delivered_at": timezone.now(), "last_error": ""}

    def succeeded(self, delivery: Delivery, receipt: DeliveryReceipt) -> list[str]:
        values = self._delivered()
        for name, value in values.items():
            setattr(delivery, name, value)
        self._sent([(str(delivery.pk), delivery.referral_id, delivery.attempts, delivery.transport, receipt)])
        return list(values)

    def succeeded_rows(self, outcomes: list[tuple[str, DeliveryReceipt]]) -> None:
        """A batch's successes: the deliveries locked in id order and marked delivered by one UPDATE that returns
        what follows needs (``helpline.bulk.locked_update``), then their referrals moved
        set-based (``referrals_move_locked``: one locking read, one UPDATE, one INSERT of events and one of
        audit records), the same steps as ``succeeded`` for each."""
        receipts = dict(outcomes)
        rows = locked_update(
            Delivery,
            list(receipts),
            {"claimed_at": None, **self._delivered()},
            ["pk", "referral", "attempts", "transport"],
        )
        self._sent(
            [(str(pk), referral, attempts, transport, receipts[str(pk)]) for pk, referral, attempts, transport in rows]
        )

    def _sent(self, delivered: list[tuple[str, Any, int, str, DeliveryReceipt]]) -> None:
        """The referrals of these deliveries (``(delivery id, referral id, attempts, transport, receipt)``) sent,
        where the lifecycle allows it: one withdrawn while its delivery was in flight stays withdrawn."""
        moves = []
        for delivery_id, referral_id, attempts, transport, receipt in delivered:
            moves.append(
                (
                    referral_id,
                    Status.SENT,
                    {
                        "actor": None,
                        "detail": receipt.detail or _("Delivered."),
                        "values": {"external_reference": receipt.external_reference[:128]}
                        if receipt.external_reference
                        else {},
                        "audit_action": actions.REFERRAL_SENT,
                        "audit_details": {"delivery": delivery_id, "attempts": attempts},
                    },
                )
            )
            if receipt.acknowledged:
                moves.append(
                    (
                        referral_id,
                        Status.ACKNOWLEDGED,
                        {
                            "actor": None,
                            "detail": _("Acknowledged by the agency's system."),
                            "via": f"{TRANSPORT_VIA}{transport}",
                        },
                    )
                )
        moved = referrals_move_locked(moves, skip_refused=True)
        _withdrawn_disclosures_record([row for row in delivered if str(row[1]) not in moved])
        portal = [
            referral_id
            for _, referral_id, _, transport, receipt in delivered
            if str(referral_id) in moved and transport == PORTAL and not receipt.acknowledged
        ]
        for referral in Referral.objects.select_related("agency").filter(pk__in=portal):
            # Nothing left the platform: the agency's users learn of it by e-mail (a link, no content).
            agency_notice_queue(referral=referral, kind=NoticeKind.NEW_REFERRAL)

    def retry_later(self, delivery: Delivery, error: DeliveryError) -> list[str]:
        delivery.status = DeliveryStatus.PENDING
        referral_event_add(
            delivery.referral,
            kind="delivery_retry",
            actor=None,
            detail=_("Attempt %(number)d failed (%(reason)s); trying again.")
            % {"number": delivery.attempts, "reason": error.reason},
        )
        return ["status", *self._error(delivery, error)]

    def give_up(self, delivery: Delivery, error: DeliveryError) -> list[str]:
        delivery.status = DeliveryStatus.FAILED
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("agency", "case__line")
            .get(pk=delivery.referral_id)
        )
        if referral.status == Status.QUEUED:
            referral_move(
                referral,
                Status.FAILED,
                actor=None,
                detail=_("Not delivered after %(number)d attempt(s): %(reason)s")
                % {"number": delivery.attempts, "reason": error.reason},
                audit_action=actions.REFERRAL_FAILED,
                audit_details={"attempts": delivery.attempts, "code": error.code[:16]},
            )
            supervisors_alert(referral=referral, kind="failed")
        return ["status", *self._error(delivery, error)]

    def released(self) -> dict:
        return {"status": DeliveryStatus.PENDING}

    @staticmethod
    def _error(delivery: Delivery, error: DeliveryError) -> list[str]:
        delivery.last_error = error.reason[:255]
        delivery.last_code = (error.code or "")[:16]
        return ["last_error", "last_code"]


def _withdrawn_disclosures_record(unmoved: list[tuple[str, Any, int, str, DeliveryReceipt]]) -> None:
    """The case's document reached the agency although its referral was withdrawn while the delivery was in
    flight: the referral stays withdrawn, but what left the platform is still in the audit trail, and the
    agency is told, as for one withdrawn after it was sent: it is stamped sent (so its portal and API show
    it withdrawn, without what was shared) and gets the withdrawn notice. The portal transport hands nothing
    over: there the withdrawn referral never reached the agency, and stays out of its sight."""
    if not unmoved:
        return
    referrals = {
        referral.pk: referral
        for referral in Referral.objects.select_related("agency").filter(
            pk__in={row[1] for row in unmoved}, status=Status.WITHDRAWN
        )
    }
    withdrawn = {pk: referral.agency.code for pk, referral in referrals.items()}
    reached = [referrals[pk] for pk in {row[1] for row in unmoved if row[3] != PORTAL and row[1] in referrals}]
    now = timezone.now()
    # updated_at too: an agency's system polling the API's list (updated_since) sees the withdrawal.
    Referral.objects.filter(pk__in=[referral.pk for referral in reached], sent_at__isnull=True).update(
        sent_at=now, updated_at=now
    )
    for referral in reached:
        agency_notice_queue(referral=referral, kind=NoticeKind.WITHDRAWN)
    audit_record_many(
        [
            {
                "action": actions.REFERRAL_SENT,
                "actor": None,
                "record": (Referral, referral_id),
                "details": {
                    "delivery": delivery_id,
                    "attempts": attempts,
                    "agency": withdrawn[referral_id],
                    "withdrawn": True,
                },
            }
            for delivery_id, referral_id, attempts, _, _ in unmoved
            if referral_id in withdrawn
        ]
    )


REFERRAL_OUTBOX = outbox_register(ReferralOutbox())


def delivery_attempt(*, delivery_id) -> str:
    """One attempt for one delivery, now, in this thread (what the outbox task does)."""
    return outbox_attempt(outbox=REFERRAL_OUTBOX, item_id=str(delivery_id))
