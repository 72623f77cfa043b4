"""Referrals, their events and their deliveries.

A ``Referral`` is addressed to one agency about one case. While it is a proposal it
holds what the SOP rule asked (``proposal``, plain codes and durations); once confirmed
it holds the referral document as built and sent, sealed under the case's key, so
destroying the case at the end of retention destroys what was sent too. Everything
people write about it (a manual referral's reason, a decline, a withdrawal, an
outcome) is sealed the same way. The plain columns are what lists, deadlines and
statistics read.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpline.models import Staff
from helpline.outbox import OutboxItem
from helpline.vault.fields import EncryptedTextField
from referrals.lifecycle import STATUS_LABELS, Status
from referrals.models.agencies import Agency

STATUS_CHOICES = [(value, label) for value, label in STATUS_LABELS.items()]


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    IMMEDIATE = "immediate", _("Immediate")


class ConsentRule(models.TextChoices):
    REQUIRED = "required", _("Consent required")
    NOT_REQUIRED = "not_required", _("Consent not required")
    OVERRIDE_ALLOWED = "override_allowed", _("Consent required, a supervisor may override")


class ConsentStatus(models.TextChoices):
    PENDING = "pending", _("Not recorded yet")
    GIVEN = "given", _("Given")
    NOT_REQUIRED = "not_required", _("Not required")
    OVERRIDE_REQUESTED = "override_requested", _("Override asked of a supervisor")
    OVERRIDDEN = "overridden", _("Overridden by a supervisor")


class ConsentBy(models.TextChoices):
    CHILD = "child", _("The child")
    CAREGIVER = "caregiver", _("A caregiver")


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", _("Verbally")
    WRITTEN = "written", _("In writing")


class Origin(models.TextChoices):
    SOP = "sop", _("Proposed by the SOP")
    MANUAL = "manual", _("Made by hand")


class OutcomeKind(models.Model):
    """One entry of the configurable list of progress updates and outcomes an agency records.

    A ``final`` outcome closes the referral; any other is a progress event. Administrators
    edit the list in the admin; an entry is never deleted (events point at it), only switched off."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=120)
    final = models.BooleanField(_("closes the referral"), default=False)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("outcome or progress update")
        verbose_name_plural = _("outcomes and progress updates")
        ordering = ["order", "label"]

    def __str__(self):
        return self.label


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("case"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("agency"))
    status = models.CharField(_("status"), max_length=16, choices=STATUS_CHOICES, default=Status.PROPOSED)
    origin = models.CharField(_("origin"), max_length=8, choices=Origin.choices)
    # Which SOP version and rule proposed it (empty for a manual referral).
    sop_name = models.CharField(_("SOP"), max_length=80, blank=True)
    sop_version = models.PositiveIntegerField(_("SOP version"), null=True, blank=True)
    rule_id = models.CharField(_("rule"), max_length=80, blank=True)
    why = models.TextField(_("why"), blank=True)
    # The proposal as the engine made it (referrals.sop.engine.Proposal.as_dict): codes only.
    proposal = models.JSONField(_("proposal"), default=dict, blank=True)
    manual_reason = EncryptedTextField(_("why it was made by hand"), data_key="case.data_key")
    urgency = models.CharField(_("urgency"), max_length=12, choices=Urgency.choices, default=Urgency.ROUTINE)
    acknowledge_within = models.DurationField(_("acknowledge within"), null=True, blank=True)
    complete_within = models.DurationField(_("complete within"), null=True, blank=True)
    acknowledge_by = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    complete_by = models.DateTimeField(_("complete by"), null=True, blank=True)
    needs_approval = models.BooleanField(_("needs a supervisor's approval"), default=False)
    # The document fields asked for (cut again to the agency's own list when built).
    share = models.JSONField(_("fields to share"), default=list, blank=True)
    consent_rule = models.CharField(
        _("consent rule"), max_length=20, choices=ConsentRule.choices, default=ConsentRule.REQUIRED
    )
    consent_asked_of = models.JSONField(_("consent asked of"), default=list, blank=True)
    consent_status = models.CharField(
        _("consent"), max_length=20, choices=ConsentStatus.choices, default=ConsentStatus.PENDING
    )
    consent_by = models.CharField(_("consent given by"), max_length=12, choices=ConsentBy.choices, blank=True)
    consent_method = models.CharField(_("consent given"), max_length=12, choices=ConsentMethod.choices, blank=True)
    consent_recorded_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    consent_recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The supervisor's decision on a consent override or a sensitive referral (cases.Approval).
    approval = models.ForeignKey(
        "cases.Approval", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("approval")
    )
    # Who confirmed the plan; a confirmed referral is queued as soon as its approval and consent allow.
    confirmed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The document as sent (JSON), sealed under the case's key.
    document = EncryptedTextField(_("document as sent"), data_key="case.data_key")
    external_reference = models.CharField(_("agency's reference"), max_length=128, blank=True)
    outcome = EncryptedTextField(_("outcome"), data_key="case.data_key")
    # The final outcome the agency recorded (its note is ``outcome``, sealed).
    outcome_kind = models.ForeignKey(
        OutcomeKind, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("outcome")
    )
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When supervisors were alerted that it is overdue (each alert once).
    acknowledge_escalated_at = models.DateTimeField(null=True, blank=True)
    complete_escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        ordering = ["created_at"]
        constraints = [
            # One proposal per case, agency and rule, however often the SOP is evaluated.
            models.UniqueConstraint(
                fields=["case", "agency", "rule_id"], condition=models.Q(origin="sop"), name="referral_sop_once"
            ),
            models.CheckConstraint(condition=models.Q(status__in=list(STATUS_LABELS)), name="referral_status_known"),
        ]
        indexes = [
            models.Index(fields=["status", "acknowledge_by"], name="referral_ack_due"),
            models.Index(fields=["status", "complete_by"], name="referral_complete_due"),
            models.Index(fields=["agency", "status"], name="referral_agency_status"),
            # The referral API's list: an agency's referrals in the order they changed (cursor pages).
            models.Index(fields=["agency", "updated_at", "id"], name="referral_agency_updated"),
        ]

    def __str__(self):
        return f"Referral {str(self.pk)[:8]} to {self.agency_id}"


class ReferralEvent(models.Model):
    """Every change of a referral: who, when, what, and a note (sealed: it may name people)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("what"), max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # A plain-words detail with no protected content (a delivery's HTTP status, a count).
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    note = EncryptedTextField(_("note"), data_key="referral.case.data_key")
    # How the step came in: "portal", "api:<key prefix>", or empty for the helpline's own steps.
    via = models.CharField(_("via"), max_length=40, blank=True)
    # The progress update or outcome recorded (kind "update" or "outcome").
    outcome = models.ForeignKey(OutcomeKind, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("referral event")
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.kind} on {self.referral_id}"


class Side(models.TextChoices):
    AGENCY = "agency", _("The agency")
    HELPLINE = "helpline", _("The helpline")


class ReferralQuestion(models.Model):
    """A question about a referral, asked by one side and answered by the other; both texts sealed
    under the case's key (they may name people)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="questions")
    asked_by_side = models.CharField(_("asked by"), max_length=8, choices=Side.choices)
    asked_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    asked_via = models.CharField(max_length=40, blank=True)
    asked_at = models.DateTimeField(auto_now_add=True)
    text = EncryptedTextField(_("question"), data_key="referral.case.data_key")
    answer = EncryptedTextField(_("answer"), data_key="referral.case.data_key")
    answered_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    answered_via = models.CharField(max_length=40, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("question about a referral")
        ordering = ["asked_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(asked_by_side__in=["agency", "helpline"]), name="referral_question_side_known"
            ),
        ]
        indexes = [
            models.Index(
                fields=["asked_by_side", "asked_at"],
                condition=models.Q(answered_at__isnull=True),
                name="referral_question_open",
            )
        ]

    def __str__(self):
        return f"Question {str(self.pk)[:8]} on {self.referral_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(OutboxItem):
    """Handing one referral to its agency's transport; its id is the Idempotency-Key of every attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="deliveries")
    transport = models.CharField(max_length=32)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # What a multi-step transport kept for its next attempt (referrals.transports, DeliveryRequest.remember).
    progress = models.JSONField(default=dict, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    last_code = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_pending")]

    def __str__(self):
        return f"Delivery {self.pk} ({self.status})"


class NoticeKind(models.TextChoices):
    NEW_REFERRAL = "new_referral", _("A new referral is waiting")
    QUESTION = "question", _("The helpline asked a question")
    ANSWER = "answer", _("The helpline answered a question")
    OVERDUE = "overdue", _("A referral is overdue")
    WITHDRAWN = "withdrawn", _("The helpline withdrew a referral")


class AgencyNotice(OutboxItem):
    """An e-mail telling an agency's users that something waits for them in the portal (referrals.notices).

    It carries no content at all: the kind, the referral (for the link) and the delivery state. The
    recipients are read when it is sent (the agency's notice address, or its authority users)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="notices")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    last_error = models.CharField(max_length=255, blank=True)
    recipients = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("portal notice")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="agency_notice_pending")]

    def __str__(self):
        return f"Notice {self.kind} {self.pk} ({self.status})"


class Signposting(models.Model):
    """Information about an agency given on a contact, without a referral ("signposted")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact = models.ForeignKey("helpline.Contact", on_delete=models.CASCADE, related_name="signpostings")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="signpostings")
    by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("signposting")
        constraints = [models.UniqueConstraint(fields=["contact", "agency"], name="signposting_once")]

    def __str__(self):
        return f"{self.agency_id} signposted on {self.contact_id}"
