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
    InboundReceipt,
    Message,
    MessageStatus,
    PendingStatus,
    RiskFlag,
    RiskKind,
    SurveyResponse,
)
from helpline.models.jobs import PeriodicJobState
from helpline.models.logins import LoginUnlock
from helpline.models.organisation import Helpline, Presence, Role, Staff
from helpline.models.sessions import HashedSession
from helpline.models.twofactor import BackupCode, BackupCodeDevice, SealedTOTPDevice

__all__ = [
    "BackupCode",
    "BackupCodeDevice",
    "BlockedSender",
    "CannedResponse",
    "ContactNote",
    "Draft",
    "RiskFlag",
    "RiskKind",
    "SurveyResponse",
    "Channel",
    "ChannelEndpoint",
    "Contact",
    "ContactStatus",
    "Direction",
    "HashedSession",
    "Helpline",
    "InboundReceipt",
    "LoginUnlock",
    "Message",
    "MessageStatus",
    "PendingStatus",
    "PeriodicJobState",
    "Presence",
    "Role",
    "SealedTOTPDevice",
    "Staff",
]
