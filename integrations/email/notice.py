"""The notice itself: built from the few document keys that are not case content, nothing else.

The message's shape (the link, the warning, the Message-ID from the idempotency key) is the portal
notices' own (referrals.notices.notice_email), so both read alike to the agency."""

import re
from datetime import datetime

from django.utils.translation import gettext as _

from referrals.notices import deadline_text, notice_email, portal_url

# The only document keys a notice reads: none of them is case content.
READ_KEYS = ("helpline.name", "agency.name", "urgency", "acknowledge_by")
URGENCY = {"routine": "routine", "urgent": "urgent", "immediate": "immediate"}


def recipients_of(config: dict) -> list[str]:
    value = config.get("recipients") or ""
    items = value if isinstance(value, list | tuple) else re.split(r"[\s,;]+", str(value))
    return [str(item).strip() for item in items if str(item).strip()]


def notice_message(document: dict, config: dict, idempotency_key: str):
    helpline = str((document.get("helpline") or {}).get("name") or _("the child helpline"))
    agency = str((document.get("agency") or {}).get("name") or _("your agency"))
    urgency = URGENCY.get(str(document.get("urgency") or ""), "")
    if urgency == "immediate":
        subject = _("Immediate: a referral from %(helpline)s is waiting") % {"helpline": helpline}
    elif urgency == "urgent":
        subject = _("Urgent: a referral from %(helpline)s is waiting") % {"helpline": helpline}
    else:
        subject = _("A referral from %(helpline)s is waiting") % {"helpline": helpline}
    lines = [
        _("A new referral from %(helpline)s is waiting for %(agency)s in the authority portal.")
        % {"helpline": helpline, "agency": agency},
        "",
    ]
    if urgency:
        lines.append(_("Urgency: %(urgency)s") % {"urgency": urgency})
    deadline = _deadline(document.get("acknowledge_by"))
    if deadline:
        lines.append(_("Please acknowledge it by %(deadline)s.") % {"deadline": deadline})
    return notice_email(subject=subject, lines=lines, link=portal_url(), to=recipients_of(config), key=idempotency_key)


def _deadline(value) -> str:
    try:
        moment = datetime.fromisoformat(str(value or "").replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    return deadline_text(moment)
