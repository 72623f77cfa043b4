"""A case: what the helpline knows and does about one child's situation over time.

Plain columns hold only structured, non-identifying facts (status, risk, codes, age
bands, regions, yes/no incident facts): what rules and statistics read. Everything
identifying or told in words is sealed under the case's own data key (``Case.data_key``):
people's names and contact details, notes, flags' messages, the incident's narrative and
URLs. Destroying that key at the end of retention leaves the counts and erases the content.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.choices import AgeBand, Gender, PersonRole, Relationship, RiskLevel
from cases.models.taxonomy import TaxonomyVersion
from cases.models.wrapup import ContactWrapup
from cases.references import REFERENCE_LENGTH, reference_new
from helpline.models import Helpline, Staff
from helpline.vault.fields import EncryptedTextField
from helpline.vault.models import DataKey


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    PENDING_CLOSURE = "pending_closure", _("Pending closure")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


# Statuses in which a case is being worked on (everything but closed).
LIVE_STATUSES = [CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.PENDING_CLOSURE, CaseStatus.REOPENED]


class Case(models.Model):
    # An integer key: the case is addressed in URLs and facts by it; its sealed content lives in
    # rows with UUID keys (the vault binds each value to its row's key before insert).
    reference = models.CharField(_("reference"), max_length=REFERENCE_LENGTH, unique=True, default=reference_new)
    line = models.ForeignKey(Helpline, on_delete=models.PROTECT, related_name="+", verbose_name=_("line"))
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    risk_level = models.CharField(_("risk level"), max_length=16, choices=RiskLevel.choices, default=RiskLevel.NONE)
    counsellor = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("counsellor")
    )
    created_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by"))
    categories = models.JSONField(_("categories"), default=list, blank=True)
    taxonomy_version = models.ForeignKey(
        TaxonomyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+", editable=False)
    # Incident facts the SOP engine reads (the narrative and the URLs themselves are sealed: CaseIncident).
    platform = models.CharField(_("online platform or service"), max_length=40, blank=True)
    urls_reported = models.BooleanField(_("URLs reported"), default=False)
    imagery_exists = models.BooleanField(_("imagery exists"), default=False)
    immediate_danger = models.BooleanField(_("child in immediate danger"), default=False)
    occurred_on = models.DateField(_("incident date"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_note_at = models.DateTimeField(_("last note"), null=True, blank=True)
    # Retention counts from here; shredded_at is when the case's key was destroyed.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    shredded_at = models.DateTimeField(_("content destroyed"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        indexes = [
            models.Index(fields=["line", "status"], name="case_line_status"),
            models.Index(fields=["counsellor", "status"], name="case_counsellor_status"),
            models.Index(fields=["-created_at", "-id"], name="case_newest"),
            # The list filtered by status or by risk, newest first (the same keyset order).
            models.Index(fields=["status", "-created_at", "-id"], name="case_status_newest"),
            models.Index(fields=["risk_level", "-created_at", "-id"], name="case_risk_newest"),
            models.Index(fields=["closed_at"], name="case_closed_at"),
        ]

    def __str__(self):
        return self.reference


class CaseIncident(models.Model):
    """What happened, in words and links: sealed under the case's key, one row per case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="incident")
    summary = EncryptedTextField(_("what happened"), data_key="case.data_key")
    # One URL per line.
    urls = EncryptedTextField(_("URLs"), data_key="case.data_key")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Incident of {self.case}"


class CaseContact(models.Model):
    """A contact (its wrap-up) linked to a case; a contact about two siblings may link to both cases."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contact_links")
    wrapup = models.ForeignKey(ContactWrapup, on_delete=models.PROTECT, related_name="case_links")
    linked_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)
    # Linked through the repeat-contact rule by someone who did not see the case before
    # (cases.selectors.repeats): audited, and shown on the case's timeline.
    via_repeat = models.BooleanField(_("access through a repeat contact"), default=False)

    class Meta:
        verbose_name = _("case contact")
        constraints = [models.UniqueConstraint(fields=["case", "wrapup"], name="case_contact_once")]

    def __str__(self):
        return f"{self.wrapup} on {self.case}"


class CasePerson(models.Model):
    """Someone involved. Identifying fields are sealed; the structured facts stay plain for rules."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="people")
    role = models.CharField(_("role"), max_length=24, choices=PersonRole.choices)
    relationship = models.CharField(
        _("relationship to the child"), max_length=24, choices=Relationship.choices, blank=True
    )
    age_band = models.CharField(_("age band"), max_length=8, choices=AgeBand.choices, blank=True)
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=16, choices=Gender.choices, blank=True)
    region = models.CharField(_("region"), max_length=32, blank=True)
    is_caregiver = models.BooleanField(_("is a caregiver of the child"), default=False)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    name = EncryptedTextField(_("name"), data_key="case.data_key")
    phone = EncryptedTextField(_("phone"), data_key="case.data_key")
    location = EncryptedTextField(_("location"), data_key="case.data_key")
    # Usernames, profile links, one per line.
    online_identifiers = EncryptedTextField(_("online identifiers"), data_key="case.data_key")
    details = EncryptedTextField(_("other details"), data_key="case.data_key")
    added_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)
    # A removal is recorded, not deleted (cases.services.people): the sealed fields stay until
    # the case's key is destroyed at retention; the person leaves the page, facts and sharing.
    removed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = EncryptedTextField(_("why removed"), data_key="case.data_key")

    class Meta:
        verbose_name = _("person involved")
        verbose_name_plural = _("people involved")
        ordering = ["added_at"]

    def __str__(self):
        return f"{self.get_role_display()} on {self.case}"


class AppendOnly(models.Model):
    """A row written once: updating it is refused (a correction is a new row)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(f"{self._meta.label} rows are append-only")
        super().save(*args, **kwargs)


class CaseNote(AppendOnly):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField(_("note"), data_key="case.data_key")
    # A correction is a new note pointing at the one it corrects; the old one stays.
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("case note")
        ordering = ["created_at"]

    def __str__(self):
        return f"Note on {self.case}"


class CaseFlag(models.Model):
    """A supervisor's flag on a case (with a sealed message); removing it is recorded, not deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="flags")
    raised_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    message = EncryptedTextField(_("message"), data_key="case.data_key")
    raised_at = models.DateTimeField(auto_now_add=True)
    removed_by = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("case flag")
        ordering = ["raised_at"]

    def __str__(self):
        return f"Flag on {self.case}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class CaseStatusChange(AppendOnly):
    """Every move of a case's status, with who and why (the reason is sealed); reopenings included."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=CaseStatus.choices)
    actor = models.ForeignKey(Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = EncryptedTextField(_("reason"), data_key="case.data_key")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("case status change")
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.case}: {self.from_status or '—'} → {self.to_status}"

    @property
    def is_reopening(self) -> bool:
        return self.to_status == CaseStatus.REOPENED
