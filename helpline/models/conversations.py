"""How the public reaches a line, and what they say: endpoints, contacts, messages, the block list."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpline.models.organisation import Helpline, Staff
from helpline.outbox import OutboxItem
from helpline.vault.fields import BlindIndexField, EncryptedTextField
from helpline.vault.models import ProtectedRecord


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WEBCHAT = "webchat", _("Web chat")


class ChannelEndpoint(ProtectedRecord):
    """A number or web chat page of a line. Provider credentials are sealed under the endpoint's own key."""

    line = models.ForeignKey(Helpline, on_delete=models.CASCADE, related_name="endpoints", verbose_name=_("line"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # The line's own public address: "+15551230000" for SMS and WhatsApp, the line slug for web chat.
    address = models.CharField(_("address"), max_length=64)
    provider_account = models.CharField(_("provider account"), max_length=64, blank=True)
    provider_secret = EncryptedTextField(_("provider secret"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel endpoint")
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="endpoint_unique_address")]

    def __str__(self):
        return f"{self.get_channel_display()} {self.address}"


class ContactStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    ACTIVE = "active", _("Active")
    WRAPUP = "wrapup", _("Wrap-up")
    CLOSED = "closed", _("Closed")


class RiskFlag(models.TextChoices):
    NONE = "none", _("None")
    SUGGESTED = "suggested", _("Suggested by a risk phrase")
    CONFIRMED = "confirmed", _("Confirmed by a counsellor")
    CLEARED = "cleared", _("Cleared by a counsellor")


class RiskKind(models.TextChoices):
    """What kind of risk a counsellor confirmed, where the line has guidance for it."""

    GENERAL = "", _("Risk")
    SEXTORTION = "sextortion", _("Sextortion")


RISK_PRIORITY = 10

# The longest message stored in either direction (an SMS of many segments, a long chat message).
MAX_BODY_LENGTH = 4096

OPEN_STATUSES = [ContactStatus.WAITING, ContactStatus.ACTIVE, ContactStatus.WRAPUP]


class Contact(ProtectedRecord):
    """One conversation episode with one sender on one line, whatever the channel."""

    line = models.ForeignKey(Helpline, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("line"))
    endpoint = models.ForeignKey(ChannelEndpoint, on_delete=models.PROTECT, related_name="contacts")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # Who wrote, sealed (to reply) and blind-indexed (to find repeat contacts and blocked senders).
    sender = EncryptedTextField(_("sender"))
    sender_index = BlindIndexField(_("sender index"))
    status = models.CharField(_("status"), max_length=16, choices=ContactStatus.choices, default=ContactStatus.WAITING)
    priority = models.SmallIntegerField(_("priority"), default=0)
    risk_flag = models.CharField(_("risk flag"), max_length=16, choices=RiskFlag.choices, default=RiskFlag.NONE)
    risk_flag_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    risk_flag_at = models.DateTimeField(null=True, blank=True)
    risk_kind = models.CharField(_("risk kind"), max_length=16, choices=RiskKind.choices, blank=True, default="")
    # A short name staff use for the conversation ("C-4821"); random, never derived from the sender.
    alias = models.CharField(_("alias"), max_length=16, blank=True, default="")
    # A contact from a blocked sender is stored closed and never queued.
    blocked = models.BooleanField(_("from a blocked sender"), default=False)
    language = models.CharField(_("language"), max_length=8, blank=True)
    age_band = models.CharField(_("age band"), max_length=16, blank=True)
    counsellor = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts", verbose_name=_("counsellor")
    )
    arrived_at = models.DateTimeField(_("arrived"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # Which survey question the child is answering by SMS (None when no survey is running).
    survey_step = models.PositiveSmallIntegerField(null=True, blank=True)
    # Inbound messages after this moment count as unread in the counsellor's console.
    counsellor_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        constraints = [
            # One open conversation per sender per line: a second message joins it.
            models.UniqueConstraint(
                fields=["line", "sender_index"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="contact_one_open_per_sender",
            ),
        ]
        indexes = [models.Index(fields=["line", "status", "-priority", "arrived_at"], name="contact_queue")]

    def __str__(self):
        return f"{self.get_channel_display()} contact {str(self.pk)[:8]}"


class Direction(models.TextChoices):
    INBOUND = "in", _("From the contact")
    OUTBOUND = "out", _("To the contact")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    UNDELIVERED = "undelivered", _("Not delivered")
    FAILED = "failed", _("Failed")


# Status only moves forward: a late "sent" never overwrites "delivered".
STATUS_RANK = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 1,
    MessageStatus.SENDING: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.READ: 5,
    MessageStatus.UNDELIVERED: 6,
    MessageStatus.FAILED: 6,
}


class Message(OutboxItem):
    """One message in either direction. The body is sealed under the contact's data key.

    An outbound message is an outbox item (helpline.outbox): ``attempts``,
    ``claimed_at`` and ``next_attempt_at`` follow its delivery.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: message_history (contact, created_at) serves every lookup by contact,
    # and a second B-tree would be written by every message (docs/PERFORMANCE.md, inbound, fourth pass).
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="messages", db_index=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    body = EncryptedTextField(_("body"), data_key="contact.data_key")
    author = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    automatic = models.BooleanField(_("automatic reply"), default=False)
    # Twilio's MessageSid, or the web chat's client message id: unique per channel.
    provider_id = models.CharField(_("provider id"), max_length=64, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices)
    status_rank = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(_("error code"), max_length=16, blank=True)
    error_message = models.CharField(_("error"), max_length=255, blank=True)
    # Media are recorded, never fetched or shown automatically. Their URLs are sealed:
    # they lead to images a counsellor must choose to open.
    media_count = models.PositiveSmallIntegerField(_("media"), default=0)
    media_types = models.JSONField(_("media types"), default=list, blank=True)
    media_urls = EncryptedTextField(_("media links"), data_key="contact.data_key")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id"],
                condition=models.Q(provider_id__isnull=False),
                name="message_provider_id_unique_per_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "created_at"], name="message_history"),
            # The few replies waiting for delivery, which the outbox's periodic jobs look for every few seconds.
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="queued"), name="message_queued"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.get_status_display()}"


class InboundReceipt(models.Model):
    """The provider id of an inbound webhook that was handled but stored no Message (a survey answer by SMS).

    A retried webhook carrying a message is stopped by the message's own unique
    provider id; this row does the same for the rest. It is written in the same
    transaction as what the webhook did, and kept for a few days
    (``helpline.services.inbound.RECEIPT_KEEP``): longer than any provider retries.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    provider_id = models.CharField(_("provider id"), max_length=64)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("inbound receipt")
        constraints = [
            models.UniqueConstraint(fields=["channel", "provider_id"], name="inbound_receipt_unique_per_channel"),
        ]

    def __str__(self):
        return f"{self.channel} receipt {self.provider_id}"


class PendingStatus(models.Model):
    """A delivery status reported for a provider id that no message carries yet.

    The provider may call back before the worker has stored the id its API
    returned. The status waits here, keyed by the endpoint that reported it, and
    is applied (forward only) when the id lands on one of that endpoint's
    messages (``helpline.services.outbound``); rows nobody claims expire
    (``PENDING_STATUS_KEEP``).
    """

    endpoint = models.ForeignKey(ChannelEndpoint, on_delete=models.CASCADE, related_name="+")
    provider_id = models.CharField(_("provider id"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices)
    status_rank = models.PositiveSmallIntegerField()
    error_code = models.CharField(_("error code"), max_length=16, blank=True)
    error_message = models.CharField(_("error"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("pending delivery status")
        verbose_name_plural = _("pending delivery statuses")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "provider_id"], name="pending_status_one_per_provider_id"),
        ]

    def __str__(self):
        return f"Pending {self.status} for {self.provider_id}"


class BlockedSender(models.Model):
    """A sender a line no longer queues (abusive or prank contacts), by blind index, often for a while."""

    line = models.ForeignKey(Helpline, on_delete=models.CASCADE, related_name="blocked_senders")
    sender_index = BlindIndexField(_("sender index"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked sender")
        indexes = [models.Index(fields=["line", "sender_index"], name="blocked_lookup")]

    def __str__(self):
        return f"Blocked sender on {self.line} until {self.expires_at or 'further notice'}"


class ContactNote(models.Model):
    """A private note between staff about a live contact (a handover on transfer). The child never sees it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, related_name="+")
    recipient = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    body = EncryptedTextField(_("note"), data_key="contact.data_key")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Note on {self.contact}"


class Draft(models.Model):
    """What a counsellor has typed but not sent, kept sealed server-side so a closed tab loses nothing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="drafts")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="drafts")
    body = EncryptedTextField(_("draft"), data_key="contact.data_key")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "staff"], name="draft_one_per_counsellor")]

    def __str__(self):
        return f"Draft on {self.contact}"


class CannedResponse(models.Model):
    """A prepared reply a counsellor can insert and adapt, per line and language."""

    line = models.ForeignKey(Helpline, on_delete=models.CASCADE, related_name="canned_responses")
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=80)
    category = models.CharField(
        _("category"), max_length=60, blank=True, help_text=_("Replies are grouped by category in the picker.")
    )
    body = models.TextField(_("text"))

    class Meta:
        ordering = ["category", "title"]
        verbose_name = _("prepared reply")
        verbose_name_plural = _("prepared replies")

    def __str__(self):
        return self.title


class SurveyResponse(models.Model):
    """A child's answers to the line's post-contact survey. Counted in statistics, never shown to the counsellor."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="survey_response")
    line = models.ForeignKey(Helpline, on_delete=models.CASCADE, related_name="survey_responses")
    answers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Survey response on {self.line}"
