"""Addresses of case pages, for the lists and redirects of every cases view."""

from functools import cache

from django.urls import reverse

# A list of 50 cases would otherwise resolve the same pattern 50 times per page.
_PLACEHOLDER = 2_147_483_647


@cache
def _detail_pattern() -> str:
    return reverse("cases:case_detail", args=[_PLACEHOLDER]).replace(str(_PLACEHOLDER), "{}")


def case_url(case) -> str:
    return _detail_pattern().format(case.pk)
