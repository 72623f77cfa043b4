"""Addresses of case pages, for the lists and redirects of every cases view."""

from functools import cache

from django.urls import NoReverseMatch, reverse

# A list of 50 cases would otherwise resolve the same pattern 50 times per page.
_PLACEHOLDER = 2_147_483_647


@cache
def _detail_pattern() -> str | None:
    try:
        return reverse("cases:case_detail", args=[_PLACEHOLDER]).replace(str(_PLACEHOLDER), "{}")
    except NoReverseMatch:
        return None


def case_url(case) -> str:
    pattern = _detail_pattern()
    if pattern is None:
        # Until the case page is mounted, a search for the case in the list finds it.
        return f"{reverse('cases:case_list')}?q={case.reference}"
    return pattern.format(case.pk)
