"""SOP versions per line: drafts are edited, one version is active, the ones before are retired.

The YAML text is what an administrator wrote (comments kept); the engine works on the
``Sop`` parsed from it (``referrals.sop.selectors.sop_active_for``). A version's text
changes only while it is a draft, so an active version is exactly what was checked
when it was activated, and every proposal's (version, rule id) points at known text.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpline.models import Helpline, Staff


class SopStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class SopVersion(models.Model):
    line = models.ForeignKey(Helpline, on_delete=models.CASCADE, related_name="+", verbose_name=_("line"))
    # Numbered per line by the platform (1, 2, 3 …); proposals record it.
    number = models.PositiveIntegerField(_("version"))
    # The document's own name (``sop:``), kept for lists.
    name = models.CharField(_("name"), max_length=80)
    text = models.TextField(_("YAML"))
    status = models.CharField(_("status"), max_length=16, choices=SopStatus.choices, default=SopStatus.DRAFT)
    created_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    activated_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("SOP version")
        ordering = ["line", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["line", "number"], name="sop_version_number_unique_per_line"),
            models.UniqueConstraint(
                fields=["line"], condition=models.Q(status=SopStatus.ACTIVE), name="sop_one_active_per_line"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=SopStatus.ACTIVE) | models.Q(activated_at__isnull=False),
                name="sop_active_has_activation",
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.number} ({self.status})"
