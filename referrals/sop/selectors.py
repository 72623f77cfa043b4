"""Reads of SOP versions: the lists administrators see and the active ``Sop`` the referrals listener evaluates.

SOPs are configuration, not case content: nothing here unseals anything. The
parsed active SOP is cached per process by (version, last change); an active
version's text never changes (only drafts are edited), so the cache cannot go stale.
"""

import logging
import re
from functools import lru_cache

from cases.models import Case, Category, LineCaseSettings, TaxonomyVersion
from cases.references import reference_normalise
from cases.selectors import case_facts
from helpline.audit.services import audit_record
from helpline.models import Helpline
from referrals.sop import actions
from referrals.sop.document import SopInvalid, sop_parse
from referrals.sop.engine import Sop
from referrals.sop.models import SopStatus, SopVersion

logger = logging.getLogger(__name__)


def sop_lines():
    """The lines an administrator configures SOPs for (every line)."""
    return Helpline.objects.order_by("name")


def sop_versions_for(line):
    return (
        SopVersion.objects.filter(line=line)
        .select_related("created_by__user", "activated_by__user")
        .order_by("-number")
    )


def sop_active_version(line) -> SopVersion | None:
    return SopVersion.objects.filter(line=line, status=SopStatus.ACTIVE).first()


def sop_active_for(line) -> Sop | None:
    """The line's active SOP, parsed (None when the line has none): what ``evaluate`` needs."""
    row = (
        SopVersion.objects.filter(line=line, status=SopStatus.ACTIVE).values_list("pk", "number", "updated_at").first()
    )
    if row is None:
        return None
    pk, number, updated_at = row
    try:
        return _parsed(pk, number, updated_at)
    except SopInvalid:
        # Cannot happen for text checked at activation; if it does, propose nothing rather than guess.
        logger.error("Active SOP version %s of line %s does not parse", number, getattr(line, "pk", line))
        return None


@lru_cache(maxsize=64)
def _parsed(pk: int, number: int, updated_at) -> Sop:
    text = SopVersion.objects.values_list("text", flat=True).get(pk=pk)
    return sop_parse(text, version=number)


def sop_known_categories(line) -> set[str] | None:
    """The category codes of the taxonomy the line classifies under, or None when no taxonomy is known."""
    settings = LineCaseSettings.objects.filter(line=line).select_related("taxonomy").first()
    version = settings.taxonomy if settings and settings.taxonomy_id else None
    if version is None:
        version = TaxonomyVersion.objects.filter(active=True).first()
    if version is None:
        return None
    return set(Category.objects.filter(version=version).values_list("code", flat=True))


_VERSION_LINE = re.compile(r"^version:[^\n#]*", re.MULTILINE)
_SOP_LINE = re.compile(r"^sop:[^\n]*\n", re.MULTILINE)


def sop_export_text(*, version: SopVersion, actor=None) -> str:
    """The version's YAML with its ``version:`` set to the platform's number (comments and layout kept); audited."""
    text = version.text
    if _VERSION_LINE.search(text):
        text = _VERSION_LINE.sub(f"version: {version.number}", text, count=1)
    else:
        text = _SOP_LINE.sub(lambda match: f"{match.group(0)}version: {version.number}\n", text, count=1)
    audit_record(
        action=actions.SOP_EXPORTED,
        actor=actor,
        record=version,
        details={"line": version.line.slug, "number": version.number},
    )
    return text


def sop_dry_run_facts(*, actor, line, reference: str) -> dict | None:
    """The facts of the line's case with this reference, for an administrator's dry run; audited.

    Facts only (codes and bands, ``cases.selectors.case_facts``): administrators configure,
    they do not read case content. None when the line has no such case.
    """
    normalised = reference_normalise(reference)
    case = Case.objects.filter(line=line, reference=normalised).first() if normalised and line else None
    if case is None:
        return None
    facts = case_facts(case)
    audit_record(action=actions.SOP_DRY_RUN, actor=actor, record=case, details={"line": line.slug})
    return facts
