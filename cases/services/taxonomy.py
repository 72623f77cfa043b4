"""Taxonomy versions: imported from a validated data file, published by an administrator.

A version never changes once imported (importing the same document again is a no-op,
a different one under the same version code is refused) and never renames a code of
the version it replaces: every code of the active version must appear again or be
mapped onto the new version's codes (``mappings``). Old wrap-ups and cases keep the
codes and version they were classified under.
"""

import json
from functools import cache
from pathlib import Path

import jsonschema
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from cases import actions
from cases.errors import CaseError
from cases.models import Category, CategoryMapping, LineCaseSettings, TaxonomyVersion
from helpline.audit.services import audit_record

TAXONOMY_DIR = Path(__file__).resolve().parent.parent / "taxonomy"
SCHEMA_PATH = TAXONOMY_DIR / "taxonomy.schema.json"
DEFAULT_DOCUMENT = TAXONOMY_DIR / "chi-2026.1.yaml"
MAX_REGIONS = 500


class TaxonomyInvalid(CaseError):
    """The document does not describe a valid version (the message says where)."""


@cache
def _validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def taxonomy_document_load(path) -> dict:
    """Parse a YAML or JSON taxonomy file (YAML is a superset of JSON) into plain data."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TaxonomyInvalid(_("The file cannot be read: %(error)s") % {"error": error.__class__.__name__}) from None
    return taxonomy_document_parse(text)


def taxonomy_document_parse(text: str) -> dict:
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        raise TaxonomyInvalid(_("The file is not valid YAML or JSON: %(error)s") % {"error": error}) from None


def _flatten(categories, parent_code=None, depth=0, out=None):
    out = [] if out is None else out
    for item in categories:
        code = item["code"]
        if parent_code is not None and not code.startswith(parent_code + "."):
            raise TaxonomyInvalid(
                _("%(code)s must start with its parent's code %(parent)s.") % {"code": code, "parent": parent_code}
            )
        if parent_code is None and "." in code:
            raise TaxonomyInvalid(_("%(code)s is a top-level category and cannot contain a dot.") % {"code": code})
        out.append((item, parent_code, depth))
        _flatten(item.get("children", []), code, depth + 1, out)
    return out


def taxonomy_document_check(document) -> list:
    """Validate against the JSON Schema and the rules a schema cannot say; returns the flattened categories."""
    errors = sorted(_validator().iter_errors(document), key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(step) for step in first.absolute_path) or "(top)"
        raise TaxonomyInvalid(
            _("Invalid taxonomy at %(where)s: %(message)s") % {"where": where, "message": first.message}
        )
    flat = _flatten(document["categories"])
    seen = set()
    for item, _parent, _depth in flat:
        if item["code"] in seen:
            raise TaxonomyInvalid(_("The code %(code)s appears twice.") % {"code": item["code"]})
        seen.add(item["code"])
    for mapping in document.get("mappings", []):
        for targets in mapping["map"].values():
            unknown = [code for code in targets if code not in seen]
            if unknown:
                raise TaxonomyInvalid(
                    _("A mapping points at %(code)s, which this version does not have.") % {"code": unknown[0]}
                )
    return flat


def _version_document(version: TaxonomyVersion) -> list:
    return list(version.categories.order_by("position").values_list("code", "labels", "national"))


def taxonomy_import_check(document) -> None:
    """Raise TaxonomyInvalid if ``taxonomy_import`` would refuse ``document`` (the admin form asks first)."""
    flat = taxonomy_document_check(document)
    existing = TaxonomyVersion.objects.filter(code=document["version"]).first()
    rows = [(item["code"], item["labels"], item.get("national", {})) for item, _parent, _depth in flat]
    if existing is not None and _version_document(existing) != rows:
        raise TaxonomyInvalid(
            _("Version %(code)s exists with other content; a published version never changes.")
            % {"code": document["version"]}
        )
    for mapping in document.get("mappings", []):
        if not TaxonomyVersion.objects.filter(code=mapping["from_version"]).exists():
            raise TaxonomyInvalid(
                _("The mapping is from %(code)s, which is not imported.") % {"code": mapping["from_version"]}
            )


@transaction.atomic
def taxonomy_import(*, actor, document: dict, activate: bool = False) -> TaxonomyVersion:
    """Store a new version from ``document`` (validated); with ``activate``, publish it too.

    ``actor`` is a Staff (an administrator) or None for the system (demo data, the command).
    """
    flat = taxonomy_document_check(document)
    code = document["version"]
    existing = TaxonomyVersion.objects.filter(code=code).first()
    rows = [(item["code"], item["labels"], item.get("national", {})) for item, _parent, _depth in flat]
    if existing is not None:
        if _version_document(existing) != rows:
            raise TaxonomyInvalid(
                _("Version %(code)s exists with other content; a published version never changes.") % {"code": code}
            )
        if activate and not existing.active:
            return taxonomy_publish(actor=actor, version=existing)
        return existing
    version = TaxonomyVersion.objects.create(code=code, title=document["title"], imported_by=actor)
    by_code = {}
    for position, (item, parent_code, depth) in enumerate(flat):
        by_code[item["code"]] = Category.objects.create(
            version=version,
            code=item["code"],
            parent=by_code.get(parent_code),
            depth=depth,
            position=position,
            labels=item["labels"],
            national=item.get("national", {}),
        )
    for mapping in document.get("mappings", []):
        source = TaxonomyVersion.objects.filter(code=mapping["from_version"]).first()
        if source is None:
            raise TaxonomyInvalid(
                _("The mapping is from %(code)s, which is not imported.") % {"code": mapping["from_version"]}
            )
        CategoryMapping.objects.bulk_create(
            CategoryMapping(from_version=source, from_code=old, to_version=version, to_code=new)
            for old, targets in mapping["map"].items()
            for new in targets
        )
    audit_record(
        action=actions.TAXONOMY_IMPORTED,
        actor=actor.user if actor else None,
        record=version,
        details={"version": code, "categories": len(flat)},
    )
    if activate:
        return taxonomy_publish(actor=actor, version=version)
    return version


def _unplaced_codes(*, old: TaxonomyVersion, new: TaxonomyVersion) -> list[str]:
    """Codes of ``old`` that ``new`` neither keeps nor maps: publishing would lose them."""
    old_codes = set(old.categories.values_list("code", flat=True))
    kept = set(new.categories.values_list("code", flat=True))
    mapped = set(CategoryMapping.objects.filter(from_version=old, to_version=new).values_list("from_code", flat=True))
    return sorted(old_codes - kept - mapped)


@transaction.atomic
def taxonomy_publish(*, actor, version: TaxonomyVersion) -> TaxonomyVersion:
    """Make ``version`` the one new wrap-ups are classified under."""
    version = TaxonomyVersion.objects.select_for_update().get(pk=version.pk)
    if version.active:
        return version
    current = TaxonomyVersion.objects.select_for_update().filter(active=True).first()
    if current is not None:
        lost = _unplaced_codes(old=current, new=version)
        if lost:
            raise TaxonomyInvalid(
                _("%(new)s drops codes of %(old)s without mapping them: %(codes)s")
                % {"new": version.code, "old": current.code, "codes": ", ".join(lost[:10])}
            )
        current.active = False
        current.save(update_fields=["active"])
    version.active = True
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["active", "published_at", "published_by"])
    audit_record(
        action=actions.TAXONOMY_PUBLISHED,
        actor=actor.user if actor else None,
        record=version,
        details={"version": version.code, "replaces": current.code if current else None},
    )
    return version


@transaction.atomic
def line_regions_set(*, actor, line, regions: list[dict]) -> LineCaseSettings:
    """Set the region codes a line's wrap-ups and people choose from: ``[{"code", "label"}]``, in order."""
    cleaned, seen = [], set()
    for region in regions[: MAX_REGIONS + 1]:
        code = str(region.get("code", "")).strip()
        label = str(region.get("label", "")).strip() or code
        if not code or len(code) > 32 or code in seen:
            raise CaseError(_("Each region needs its own code of at most 32 characters."))
        seen.add(code)
        cleaned.append({"code": code, "label": label[:120]})
    if len(cleaned) > MAX_REGIONS:
        raise CaseError(_("A line has at most %(count)d regions.") % {"count": MAX_REGIONS})
    settings, _created = LineCaseSettings.objects.select_for_update().get_or_create(line=line)
    settings.regions = cleaned
    settings.save(update_fields=["regions"])
    audit_record(
        action=actions.LINE_REGIONS_SET,
        actor=actor.user if actor else None,
        record=line,
        details={"regions": len(cleaned)},
    )
    return settings
