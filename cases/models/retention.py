"""How long a line keeps what it records: closed cases, and transcripts of contacts never linked to a case.

One row per line (``helpline.Helpline``), changed only through
``cases.services.retention.retention_policy_set`` (audited). A line without a row
keeps the defaults below. Zero is allowed for both periods: the content goes at
the next retention run after the case closes or the contact ends.
"""

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpline.models import Helpline, Staff

# Defaults for a line nobody has configured: seven years for case records (a common
# statutory floor for child protection files), 90 days for unlinked transcripts.
DEFAULT_CLOSED_CASE_DAYS = 2555
DEFAULT_TRANSCRIPT_DAYS = 90


class RetentionPolicy(models.Model):
    line = models.OneToOneField(
        Helpline, on_delete=models.CASCADE, related_name="retention_policy", verbose_name=_("line")
    )
    closed_case_days = models.PositiveIntegerField(
        _("keep closed cases (days)"),
        default=DEFAULT_CLOSED_CASE_DAYS,
        help_text=_("Days after a case is closed until its content is destroyed. 0: at the next retention run."),
    )
    transcript_days = models.PositiveIntegerField(
        _("keep unlinked transcripts (days)"),
        default=DEFAULT_TRANSCRIPT_DAYS,
        help_text=_(
            "Days after a contact ended until its transcript is destroyed, for contacts not linked to a case. "
            "No longer than for closed cases."
        ),
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    updated_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(transcript_days__lte=models.F("closed_case_days")),
                name="retention_transcripts_not_longer_than_cases",
            ),
        ]

    def __str__(self):
        return f"Retention on {self.line}"

    @property
    def closed_case_period(self) -> timedelta:
        return timedelta(days=self.closed_case_days)

    @property
    def transcript_period(self) -> timedelta:
        return timedelta(days=self.transcript_days)
