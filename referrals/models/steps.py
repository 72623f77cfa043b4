"""What an SOP proposes besides referrals: notices to staff and offers to the child.

A ``Notice`` is a ``notify`` proposal acted on: the line's supervisors are alerted on their
supervision page (and, for ``on_call``, by e-mail) until one of them marks it seen. An ``Offer``
is an ``offer`` proposal: the counsellor offers the child a service there and then (the IWF's
Report Remove), and gets the link to give the child through the transport that makes the
hand-off. One of each per case and rule, however often the SOP is evaluated. Only codes are
plain; the hand-off link is sealed under the case's key.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpline.models import Staff
from helpline.vault.fields import EncryptedTextField
from referrals.models.agencies import Agency


class SopStep(models.Model):
    """What both record: the case, and the SOP version and rule that proposed it, with the engine's why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="%(class)ss", verbose_name=_("case"))
    sop_name = models.CharField(_("SOP"), max_length=80)
    sop_version = models.PositiveIntegerField(_("SOP version"))
    rule_id = models.CharField(_("rule"), max_length=80)
    why = models.TextField(_("why"), blank=True)
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at"]


class Notice(SopStep):
    # Who is told (referrals.sop.vocabulary.NOTIFY_TARGETS), never a caregiver recorded as the alleged perpetrator.
    notify = models.JSONField(_("who is told"), default=list)
    # What the SOP asked that was left out to protect the child ("notify.caregiver").
    withheld = models.JSONField(_("withheld"), default=list, blank=True)
    seen_at = models.DateTimeField(_("seen"), null=True, blank=True)
    seen_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("notice to staff")
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "rule_id"], name="notice_once_per_rule")]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(seen_at__isnull=True), name="notice_unseen"),
        ]

    def __str__(self):
        return f"Notice {self.rule_id} on case {self.case_id}"


class OfferStatus(models.TextChoices):
    PROPOSED = "proposed", _("To offer")
    READY = "ready", _("Link ready for the child")
    WITHDRAWN = "withdrawn", _("No longer proposed")


class Offer(SopStep):
    # What is offered (referrals.sop.vocabulary.OFFERS): "report_remove".
    offer = models.CharField(_("offer"), max_length=32)
    status = models.CharField(_("status"), max_length=12, choices=OfferStatus.choices, default=OfferStatus.PROPOSED)
    # Made for the hand-off (random, not the case's reference): the one thing besides the age range that leaves.
    reference = models.CharField(_("hand-off reference"), max_length=32, blank=True)
    age_range = models.CharField(_("age range"), max_length=8, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The link the counsellor gives the child, sealed under the case's key.
    link = EncryptedTextField(_("link for the child"), data_key="case.data_key")
    link_at = models.DateTimeField(null=True, blank=True)
    link_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("offer to the child")
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "rule_id", "offer"], name="offer_once_per_rule")]

    def __str__(self):
        return f"Offer {self.offer} on case {self.case_id}"
