"""The notice itself: built from the few document keys that are not case content, nothing else."""

import hashlib
import re
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

# The only document keys a notice reads: none of them is case content.
READ_KEYS = ("helpline.name", "agency.name", "urgency", "acknowledge_by")
URGENCY = {"routine": "routine", "urgent": "urgent", "immediate": "immediate"}


def recipients_of(config: dict) -> list[str]:
    value = config.get("recipients") or ""
    items = value if isinstance(value, list | tuple) else re.split(r"[\s,;]+", str(value))
    return [str(item).strip() for item in items if str(item).strip()]


def portal_url() -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + "/authority/"


def notice_message(document: dict, config: dict, idempotency_key: str) -> EmailMessage:
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
    lines += [
        "",
        _("Sign in to the portal to read it (two-factor sign-in required):"),
        portal_url(),
        "",
        _("This e-mail holds no case details on purpose. Please never reply with case details."),
    ]
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = (settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost").strip(">") or "localhost"
    return EmailMessage(
        subject=subject,
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients_of(config),
        headers={"Message-ID": f"<referral-notice-{digest}@{domain}>", "Auto-Submitted": "auto-generated"},
    )


def _deadline(value) -> str:
    try:
        moment = datetime.fromisoformat(str(value or "").replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
