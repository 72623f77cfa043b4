"""The referrals app's data: the agency directory, authority memberships, referrals and their delivery,
and the SOP's notices to staff and offers to the child."""

from referrals.models.agencies import Agency, AgencyKind, AgencyMembership
from referrals.models.api import ApiKey, ApiScope, IdempotentRequest
from referrals.models.referrals import (
    AgencyNotice,
    ConsentBy,
    ConsentMethod,
    ConsentRule,
    ConsentStatus,
    Delivery,
    DeliveryStatus,
    NoticeKind,
    Origin,
    OutcomeKind,
    Referral,
    ReferralEvent,
    ReferralQuestion,
    Side,
    Signposting,
    Urgency,
)
from referrals.models.steps import Notice, Offer, OfferStatus

__all__ = [
    "Agency",
    "ApiKey",
    "ApiScope",
    "AgencyKind",
    "AgencyMembership",
    "AgencyNotice",
    "ConsentBy",
    "ConsentMethod",
    "ConsentRule",
    "ConsentStatus",
    "Delivery",
    "IdempotentRequest",
    "Notice",
    "Offer",
    "OfferStatus",
    "DeliveryStatus",
    "NoticeKind",
    "Origin",
    "OutcomeKind",
    "Referral",
    "ReferralEvent",
    "ReferralQuestion",
    "Side",
    "Signposting",
    "Urgency",
]
