"""Write paths of the block list: a supervisor blocks an abusive sender of their line, or lifts a block.

A block holds the sender's blind index only, never the number or chat token, so
neither the supervisor nor the list ever shows who it is. While a block holds, the
sender's next conversation on that line is answered once with the line's blocked
message and stored closed, never queued (helpline.services.inbound); the
conversation in which the block was made goes on until a counsellor ends it.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from helpline import actions
from helpline.access import supervises_line
from helpline.audit.services import audit_record
from helpline.models import BlockedSender, Contact, Staff

MAX_REASON_LENGTH = BlockedSender._meta.get_field("reason").max_length


def block_active_for(*, line, sender_index, now: datetime | None = None) -> BlockedSender | None:
    """The block that holds now for this sender on this line, if any."""
    now = now or timezone.now()
    return (
        BlockedSender.objects.filter(line=line, sender_index=sender_index)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def sender_block(*, actor: Staff, contact: Contact, reason: str, expires_at: datetime | None = None) -> BlockedSender:
    """Block the sender of ``contact`` on its line, until ``expires_at`` (None: until lifted)."""
    if not supervises_line(actor, contact.line_id):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this sender is blocked; the reason is kept in the audit trail.")})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason under %(limit)d characters.") % {"limit": MAX_REASON_LENGTH}}
        )
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": _("The end of the block must be in the future.")})
    existing = block_active_for(line=contact.line, sender_index=contact.sender_index, now=now)
    if existing is not None:
        if existing.expires_at is None:
            message = _("This sender is already blocked on this line until the block is lifted.")
        else:
            message = _("This sender is already blocked on this line until %(until)s.") % {
                "until": date_format(timezone.localtime(existing.expires_at), "DATETIME_FORMAT")
            }
        raise ValidationError(message)
    block = BlockedSender.objects.create(
        line=contact.line,
        sender_index=contact.sender_index,
        reason=reason,
        expires_at=expires_at,
        created_by=actor,
    )
    audit_record(
        action=actions.SENDER_BLOCKED,
        actor=actor.user,
        record=block,
        reason=reason,
        details={
            "line": contact.line.slug,
            "contact": str(contact.pk),
            "channel": contact.channel,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return block


@transaction.atomic
def sender_unblock(*, actor: Staff, block: BlockedSender, reason: str = "") -> None:
    """Lift a block: the sender's next message opens a conversation in the queue as anyone's does."""
    block = BlockedSender.objects.select_for_update().select_related("line").get(pk=block.pk)
    if not supervises_line(actor, block.line_id):
        raise PermissionDenied
    audit_record(
        action=actions.SENDER_UNBLOCKED,
        actor=actor.user,
        record=block,
        reason=(reason or "").strip()[:MAX_REASON_LENGTH],
        details={"line": block.line.slug},
    )
    block.delete()
