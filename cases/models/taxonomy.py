"""Versioned classification codes: the Child Helpline International framework plus finer OCSEA codes.

Contacts and cases store **codes** (``violence.ocsea.sextortion``) and the version they were
classified under, never labels: renaming a label must not split statistics. A version is
imported from a validated data file (``cases/taxonomy/``) and, once published, never changes;
a new version never renames an old code. How codes of one version map onto the next is data
(``CategoryMapping``), for statistics across versions.
"""

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from helpline.models import Helpline, Staff


class TaxonomyVersion(models.Model):
    code = models.SlugField(_("version"), max_length=40, unique=True)  # "chi-2026.1"
    title = models.CharField(_("title"), max_length=160)
    # The one version new wrap-ups are classified under (a line may choose another in its settings).
    active = models.BooleanField(_("active"), default=False)
    imported_at = models.DateTimeField(_("imported"), auto_now_add=True)
    imported_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("taxonomy version")
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="taxonomy_one_active"),
        ]

    def __str__(self):
        return self.code


class Category(models.Model):
    version = models.ForeignKey(
        TaxonomyVersion, on_delete=models.CASCADE, related_name="categories", verbose_name=_("version")
    )
    # Dotted and stable; a code's descendants share its prefix + ".".
    code = models.CharField(_("code"), max_length=120)
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    depth = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)
    labels = models.JSONField(_("labels"), default=dict)  # {"en": "Sextortion", "fr": "…", "sw": "…"}
    # {"cpims": "OAST"}: the code a national system uses, for the transports.
    national = models.JSONField(_("national codes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="category_code_unique_per_version")]

    def __str__(self):
        return self.code

    def label(self, language: str | None = None) -> str:
        language = (language or translation.get_language() or "en").split("-")[0]
        return self.labels.get(language) or self.labels.get("en") or self.code


class CategoryMapping(models.Model):
    """One code of an older version and what it became in a newer one (several rows for a split)."""

    from_version = models.ForeignKey(TaxonomyVersion, on_delete=models.CASCADE, related_name="mappings_out")
    from_code = models.CharField(max_length=120)
    to_version = models.ForeignKey(TaxonomyVersion, on_delete=models.CASCADE, related_name="mappings_in")
    to_code = models.CharField(max_length=120)

    class Meta:
        verbose_name = _("category mapping")
        constraints = [
            models.UniqueConstraint(
                fields=["from_version", "from_code", "to_version", "to_code"], name="category_mapping_unique"
            ),
        ]

    def __str__(self):
        return f"{self.from_version}:{self.from_code} → {self.to_version}:{self.to_code}"


class LineCaseSettings(models.Model):
    """What the cases app needs to know about a line, beside it (helpline's tables stay its own).

    ``regions``: the line's region codes for wrap-ups and people, in order:
    ``[{"code": "KE-047", "label": "Nairobi"}]``. ``taxonomy``: the version this line
    classifies under, or the globally active one when empty.
    """

    line = models.OneToOneField(Helpline, on_delete=models.CASCADE, related_name="case_settings")
    regions = models.JSONField(_("regions"), default=list, blank=True)
    taxonomy = models.ForeignKey(
        TaxonomyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("taxonomy")
    )

    class Meta:
        verbose_name = _("line case settings")
        verbose_name_plural = _("line case settings")

    def __str__(self):
        return f"Case settings of {self.line}"

    def region_codes(self) -> list[str]:
        return [region["code"] for region in self.regions if isinstance(region, dict) and "code" in region]
