"""Approvals: a step one person asks for and another decides (closing a case; later consent
overrides and sensitive referrals), and break-glass access to a case outside one's lines.

An approval's ``kind`` is a plain code registered in ``cases.approvals`` (``approval_kind_register``),
so an outer app adds its own kinds without a migration here. The requester can never decide
their own request: the service refuses it and a database constraint backs the refusal.
The reasons people give may name the child or others, so they are sealed under the case's key
and go when the case is shredded.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.approvals import approval_kind_label
from helpline.models import Staff
from helpline.vault.fields import EncryptedTextField

CASE_CLOSURE = "case_closure"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Approval(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="approvals", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=40)
    # Non-identifying facts an outer app's kind needs (a referral's id), never content.
    subject = models.JSONField(_("subject"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    requested_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by"))
    requested_at = models.DateTimeField(_("asked"), auto_now_add=True)
    request_reason = EncryptedTextField(_("why it was asked"), data_key="case.data_key")
    decided_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = EncryptedTextField(_("why it was decided so"), data_key="case.data_key")

    class Meta:
        verbose_name = _("approval")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("requested_by")),
                name="approval_not_by_requester",
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                | ~models.Q(status="pending"),
                name="approval_pending_is_undecided",
            ),
            models.UniqueConstraint(
                fields=["case", "kind"], condition=models.Q(status="pending"), name="approval_one_pending_per_kind"
            ),
        ]
        indexes = [models.Index(fields=["status", "kind", "requested_at"], name="approval_pending")]

    def __str__(self):
        return f"{self.kind} approval ({self.status})"

    @property
    def kind_label(self) -> str:
        return approval_kind_label(self.kind)

    @property
    def is_pending(self) -> bool:
        return self.status == ApprovalStatus.PENDING


class BreakGlassAccess(models.Model):
    """A supervisor opened a case outside their lines, saying why; lasts a few hours, shown on the case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="break_glass", verbose_name=_("case"))
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("who"))
    # Why access was needed; also kept in the audit trail, so it must not name the child.
    reason = models.CharField(_("reason"), max_length=500)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    expires_at = models.DateTimeField(_("until"))

    class Meta:
        verbose_name = _("break-glass access")
        verbose_name_plural = _("break-glass accesses")
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["staff", "expires_at"], name="break_glass_active")]

    def __str__(self):
        return f"Break-glass access by {self.staff}"
