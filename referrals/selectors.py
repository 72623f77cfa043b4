"""Reads of the referrals app that depend on who asks (filtered in SQL)."""

from django.db.models import Q, QuerySet

from referrals.models import Agency, AgencyMembership


def agency_of(user) -> Agency | None:
    """The agency an authority user works for, or None."""
    if user is None or not user.is_authenticated:
        return None
    membership = AgencyMembership.objects.filter(user=user).select_related("agency").first()
    return membership.agency if membership is not None and membership.agency.active else None


def agencies_search(*, need: str = "", language: str = "", region: str = "") -> QuerySet:
    """Active agencies that help with ``need`` (a taxonomy code: an agency serving a parent code
    or listing no needs fits), speak ``language`` (or list none), and cover ``region`` (or are national).
    National agencies come after regional ones."""
    agencies = Agency.objects.filter(active=True)
    if need:
        parts = need.split(".")
        ancestors = [".".join(parts[: index + 1]) for index in range(len(parts))]
        matches = Q(needs=[])
        for code in ancestors:
            matches |= Q(needs__contains=[code])
        agencies = agencies.filter(matches)
    if language:
        agencies = agencies.filter(Q(languages=[]) | Q(languages__contains=[language]))
    if region:
        agencies = agencies.filter(Q(national=True) | Q(regions__contains=[region]))
    return agencies.order_by("national", "name")


def agency_for_referral(*, kind: str, region: str | None) -> Agency | None:
    """The agency of ``kind`` covering ``region``, falling back to the national one of that kind."""
    agencies = Agency.objects.filter(active=True, kind=kind)
    if region:
        regional = agencies.filter(regions__contains=[region], national=False).order_by("name").first()
        if regional is not None:
            return regional
    return agencies.filter(national=True).order_by("name").first()
