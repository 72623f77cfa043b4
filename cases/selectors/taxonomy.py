"""Reads of the taxonomy and a line's case settings (configuration: no protected content)."""

from cases.models import Category, LineCaseSettings, TaxonomyVersion


def taxonomy_for_line(line) -> TaxonomyVersion | None:
    """The version a line classifies under: its own choice, else the published one."""
    settings = LineCaseSettings.objects.filter(line=line).select_related("taxonomy").first()
    if settings is not None and settings.taxonomy is not None:
        return settings.taxonomy
    return TaxonomyVersion.objects.filter(active=True).first()


def line_regions(line) -> list[dict]:
    settings = LineCaseSettings.objects.filter(line=line).first()
    return list(settings.regions) if settings else []


def category_codes(version: TaxonomyVersion | None) -> set[str]:
    if version is None:
        return set()
    return set(version.categories.values_list("code", flat=True))


def categories_of(version: TaxonomyVersion | None) -> list[Category]:
    if version is None:
        return []
    return list(version.categories.order_by("position"))


def category_labels(codes, *, versions=None, language=None) -> dict[str, str]:
    """Labels of ``codes`` in the reader's language, from the given versions (newest wins), else the code."""
    query = Category.objects.filter(code__in=list(codes))
    if versions is not None:
        query = query.filter(version__in=[version for version in versions if version is not None])
    labels = {}
    for category in query.order_by("version__imported_at"):
        labels[category.code] = category.label(language)
    return {code: labels.get(code, code) for code in codes}


def category_national_codes(codes, *, version) -> dict[str, dict]:
    rows = Category.objects.filter(version=version, code__in=list(codes)).values_list("code", "national")
    return dict(rows)
