"""Addresses of case pages, for the lists and redirects of every cases view."""

from django.urls import NoReverseMatch, reverse


def case_url(case) -> str:
    try:
        return reverse("cases:case_detail", args=[case.pk])
    except NoReverseMatch:
        # Until the case page is mounted, a search for the case in the list finds it.
        return f"{reverse('cases:case_list')}?q={case.reference}"
