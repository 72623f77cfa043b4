"""What the referral API keeps: the agencies' API keys and the answers to idempotent writes.

An ``ApiKey`` belongs to one agency. Its secret is shown once, when it is made, and
only its SHA-256 is stored: the secret is 256 random bits, so a plain digest cannot be
reversed or guessed, and a database copy holds nothing that opens the API. The
``prefix`` is public (it names the key in the audit trail and in the admin) and finds
the row; the digest is then compared in constant time.

An ``IdempotentRequest`` keeps what a POST answered under its ``Idempotency-Key``, per
key, until ``expires_at``: the same request sent again gets the same answer, a different
request under the same key is refused (docs/API.md).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from referrals.models.agencies import Agency


class ApiScope(models.TextChoices):
    READ = "read", _("Read referrals and questions")
    ACKNOWLEDGE = "acknowledge", _("Acknowledge, accept or decline referrals")
    UPDATE = "update", _("Post progress updates and outcomes, ask and answer questions")


class ApiKey(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("agency"))
    name = models.CharField(_("name"), max_length=120, help_text=_("Which system of the agency uses it."))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_sha256 = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set by a rotation (the overlap period's end) or by whoever made it.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replaced_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces", editable=False
    )
    # Updated at most once a minute (referrals.services.api_keys.api_key_mark_used).
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["agency", "-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotentRequest(models.Model):
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the request's JSON in canonical form.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The JSON answered: ids, statuses and timestamps only (the write endpoints return no shared content).
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="idempotent_request_once")]
        indexes = [models.Index(fields=["expires_at"], name="idempotent_request_expiry")]

    def __str__(self):
        return f"Idempotency-Key on {self.api_key_id}"
