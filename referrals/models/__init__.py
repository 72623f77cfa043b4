"""The referrals app's data: the agency directory, authority memberships, referrals and their delivery."""

from referrals.models.agencies import Agency, AgencyKind, AgencyMembership

__all__ = ["Agency", "AgencyKind", "AgencyMembership"]
