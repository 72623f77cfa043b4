"""The agency directory: who receives referrals and signposting, where, in which languages, and how."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpline.vault.fields import EncryptedTextField
from helpline.vault.models import ProtectedRecord


class AgencyKind(models.TextChoices):
    POLICE = "police", _("Police")
    SOCIAL_SERVICES = "social_services", _("Social services")
    REPORTING_PORTAL = "reporting_portal", _("Reporting portal or national hotline")
    HEALTH = "health", _("Health service")
    ONE_STOP_CENTRE = "one_stop_centre", _("One-stop centre")
    SHELTER = "shelter", _("Shelter")
    NGO = "ngo", _("NGO")
    OFFENDER_PREVENTION = "offender_prevention", _("Offender-prevention service")


class Agency(ProtectedRecord):
    """One agency of the directory. Its transport secrets are sealed under its own data key.

    ``regions`` are the region codes it covers (``KE-047``); a ``national`` agency
    covers the whole country and is the fallback when no regional one fits.
    ``fields`` are the dotted paths of the referral document it may receive
    (referrals.document_fields); nothing else ever leaves for it. ``needs`` are
    taxonomy codes it helps with (a code covers its descendants), for the
    counsellors' resource list.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind"), max_length=32, choices=AgencyKind.choices)
    regions = models.JSONField(_("regions"), default=list, blank=True)
    national = models.BooleanField(_("national"), default=False)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    needs = models.JSONField(_("needs served"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    hours = models.CharField(_("opening hours"), max_length=160, blank=True)
    transport = models.CharField(_("delivery method"), max_length=32, default="portal")
    transport_config = models.JSONField(_("delivery settings"), default=dict, blank=True)
    # A JSON object of the transport's secret fields, sealed; never shown again once saved.
    transport_secrets = EncryptedTextField(_("delivery secrets"))
    fields = models.JSONField(_("fields it may receive"), default=list, blank=True)
    # Where the portal's e-mail notices go instead of each authority user of the agency (referrals.notices).
    notice_email = models.EmailField(
        _("portal notices to"),
        blank=True,
        help_text=_(
            "One address (a duty desk) that gets the portal's e-mail notices instead of each of the agency's "
            "authority users. Notices hold a link, never case content."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[kind.value for kind in AgencyKind]), name="agency_kind_known"
            ),
        ]
        indexes = [models.Index(fields=["kind", "active"], name="agency_kind_active")]

    def __str__(self):
        return self.name


class AgencyMembership(models.Model):
    """The agency an authority user works for: one per user, so their inbox shows that agency only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_membership", verbose_name=_("user")
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="members", verbose_name=_("agency"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("agency membership")

    def __str__(self):
        return f"{self.user.get_username()} @ {self.agency.code}"
