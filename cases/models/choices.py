"""The structured facts of contacts and cases, as stable codes.

These values are what the SOP engine and statistics read (``cases.selectors.case_facts``):
codes never change once released; labels are translated. Kept in one module because the
wrap-up, the case and its people share them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallType(models.TextChoices):
    DATA = "data", _("Data contact")
    SILENT = "silent", _("Silent")
    HANG_UP = "hang_up", _("Hang-up")
    ABUSIVE = "abusive", _("Abusive")
    PRANK = "prank", _("Prank")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    THANKS = "thanks", _("Thanks")
    INFORMATION = "information", _("Information only")


NON_DATA_CALL_TYPES = [value for value in CallType.values if value != CallType.DATA]


class CallerType(models.TextChoices):
    CHILD = "child", _("Child")
    ADULT_ABOUT_CHILD = "adult_about_child", _("Adult about a child")
    PROFESSIONAL = "professional", _("Professional")
    # A prevention line's caller: never recorded as a perpetrator.
    SELF_CONCERN = "self_concern", _("Worried about their own thoughts or behaviour")


class AgeBand(models.TextChoices):
    AGE_0_5 = "0-5", _("0–5")
    AGE_6_9 = "6-9", _("6–9")
    AGE_10_12 = "10-12", _("10–12")
    AGE_13_15 = "13-15", _("13–15")
    AGE_16_17 = "16-17", _("16–17")
    ADULT = "18+", _("18 or older")
    UNKNOWN = "unknown", _("Unknown")


# The web chat's pre-chat step asks for coarser bands; these are what they mean here.
WEBCHAT_AGE_BANDS = {"10-12": "10-12", "13-15": "13-15", "16-17": "16-17", "18plus": "18+"}


class Gender(models.TextChoices):
    GIRL = "girl", _("Girl / woman")
    BOY = "boy", _("Boy / man")
    NON_BINARY = "non_binary", _("Non-binary")
    UNKNOWN = "unknown", _("Unknown")


class RiskLevel(models.TextChoices):
    NONE = "none", _("None")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    IMMINENT = "imminent", _("Imminent")


RISK_RANK = {level: rank for rank, level in enumerate(RiskLevel.values)}


class ChildWants(models.TextChoices):
    TALK = "talk", _("To talk")
    ADVICE = "advice", _("Advice")
    INFORMATION = "information", _("Information")
    REPORT = "report", _("To report what happened")
    REMOVE_IMAGES = "remove_images", _("Images taken down")
    PROTECTION = "protection", _("To be safe now")
    NOT_SURE = "not_sure", _("Not sure yet")


class ActionTaken(models.TextChoices):
    INFORMATION = "information", _("Information given")
    SIGNPOSTING = "signposting", _("Signposting")
    COUNSELLING = "counselling", _("Counselling")
    REFERRAL_TO_FOLLOW = "referral_to_follow", _("Referral to follow")


class ContactChannel(models.TextChoices):
    """Every way a contact reaches the line: the platform's channels and those logged by hand."""

    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WEBCHAT = "webchat", _("Web chat")
    PHONE = "phone", _("Phone call")
    WALK_IN = "walk_in", _("Walk-in")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("Email")


OFFLINE_CHANNELS = [ContactChannel.PHONE, ContactChannel.WALK_IN, ContactChannel.LETTER, ContactChannel.EMAIL]


class PersonRole(models.TextChoices):
    CHILD = "child", _("Child")
    CAREGIVER = "caregiver", _("Caregiver")
    ALLEGED_PERPETRATOR = "alleged_perpetrator", _("Alleged perpetrator")
    REPORTER = "reporter", _("Reporter")
    OTHER = "other", _("Other")


class Relationship(models.TextChoices):
    """How a person is related to the child."""

    SELF = "self", _("The child")
    PARENT = "parent", _("Parent")
    STEP_PARENT = "step_parent", _("Step-parent")
    SIBLING = "sibling", _("Sibling")
    RELATIVE = "relative", _("Other relative")
    PARTNER = "partner", _("Boyfriend / girlfriend")
    FRIEND = "friend", _("Friend")
    PEER = "peer", _("Schoolmate or peer")
    TEACHER = "teacher", _("Teacher or carer at an institution")
    NEIGHBOUR = "neighbour", _("Neighbour")
    ACQUAINTANCE_ONLINE = "acquaintance_online", _("Known only online")
    STRANGER_ONLINE = "stranger_online", _("Stranger online")
    STRANGER = "stranger", _("Stranger")
    PROFESSIONAL = "professional", _("Professional")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")
