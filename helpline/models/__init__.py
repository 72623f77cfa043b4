from helpline.models.conversations import (
    BlockedSender,
    CannedResponse,
    Channel,
    ChannelEndpoint,
    Contact,
    ContactNote,
    ContactStatus,
    Direction,
    Draft,
    Message,
    MessageStatus,
    RiskFlag,
    SurveyResponse,
)
from helpline.models.jobs import PeriodicJobState
from helpline.models.organisation import Helpline, Presence, Role, Staff

__all__ = [
    "BlockedSender",
    "CannedResponse",
    "ContactNote",
    "Draft",
    "RiskFlag",
    "SurveyResponse",
    "Channel",
    "ChannelEndpoint",
    "Contact",
    "ContactStatus",
    "Direction",
    "Helpline",
    "Message",
    "MessageStatus",
    "PeriodicJobState",
    "Presence",
    "Role",
    "Staff",
]
