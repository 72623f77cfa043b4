"""The wrap-up of one contact: how a counsellor classifies it, beside ``helpline.Contact``.

A wrap-up is one-to-one with a platform contact (SMS, WhatsApp, web chat), or stands alone
for a contact logged by hand (phone call, walk-in, letter, email), when ``contact`` is empty
and ``channel`` says how it came. Its summary is sealed under the contact's own data key (the
same ``DataKey`` row), so destroying a transcript destroys its summary with it; a contact
logged by hand gets a data key of its own.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models.choices import AgeBand, CallerType, CallType, ContactChannel, Gender, RiskLevel
from cases.models.taxonomy import TaxonomyVersion
from helpline.models import Contact, Helpline, Staff
from helpline.vault.fields import BlindIndexField, EncryptedTextField
from helpline.vault.models import ProtectedRecord


class WrapupStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    FINAL = "final", _("Final")


class ContactWrapup(ProtectedRecord):
    contact = models.OneToOneField(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="wrapup", verbose_name=_("contact")
    )
    line = models.ForeignKey(Helpline, on_delete=models.PROTECT, related_name="+", verbose_name=_("line"))
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices)
    # When the contact happened (a letter may be logged days later).
    occurred_at = models.DateTimeField(_("contact on"), default=timezone.now)
    # Whose contact it is; ``recorded_by`` differs when a colleague logs it on their behalf.
    counsellor = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="wrapups", verbose_name=_("counsellor")
    )
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    # For a phone call logged by hand: the caller's number as a blind index (repeat contacts), if given.
    caller_index = BlindIndexField(_("caller index"))
    status = models.CharField(_("status"), max_length=8, choices=WrapupStatus.choices, default=WrapupStatus.DRAFT)
    call_type = models.CharField(_("call type"), max_length=16, choices=CallType.choices, blank=True)
    caller_type = models.CharField(_("caller"), max_length=24, choices=CallerType.choices, blank=True)
    age_band = models.CharField(_("age band"), max_length=8, choices=AgeBand.choices, blank=True)
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=16, choices=Gender.choices, blank=True)
    region = models.CharField(_("region"), max_length=32, blank=True)
    # Taxonomy codes, never labels, and the version they belong to.
    categories = models.JSONField(_("categories"), default=list, blank=True)
    taxonomy_version = models.ForeignKey(
        TaxonomyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    risk_level = models.CharField(_("risk level"), max_length=16, choices=RiskLevel.choices, blank=True)
    child_wants = models.JSONField(_("what the child wants"), default=list, blank=True)
    actions_taken = models.JSONField(_("actions taken"), default=list, blank=True)
    summary = EncryptedTextField(_("summary"))
    # The case this contact was linked to at wrap-up (more links, if any, are CaseContact rows).
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("case")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finalised_at = models.DateTimeField(_("finalised"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact wrap-up")
        indexes = [
            models.Index(fields=["line", "occurred_at"], name="wrapup_line_time"),
            models.Index(fields=["counsellor", "status"], name="wrapup_counsellor_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False)
                | models.Q(channel__in=["phone", "walk_in", "letter", "email"]),
                name="wrapup_offline_channel_without_contact",
            ),
        ]

    def __str__(self):
        return f"Wrap-up {str(self.pk)[:8]} ({self.get_channel_display()})"

    @property
    def is_final(self) -> bool:
        return self.status == WrapupStatus.FINAL

    @property
    def is_data_contact(self) -> bool:
        return self.call_type == CallType.DATA
