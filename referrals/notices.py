"""E-mail notices: a message that something waits in the agency portal, with a link and never any content.

Two senders share what is here: the portal's own notices to an agency's users (``AgencyNotice``,
the outbox ``agency_notice`` below) and the ``email`` transport of agencies that have nothing
else (integrations.email builds its message with ``notice_email`` and sends it with
``notice_send``). What every notice holds: the helpline's and the agency's names, what kind of
thing waits (a new referral, a question, an answer, an overdue or withdrawn referral), the urgency and a
deadline, and a link into the portal, where reading needs a two-factor sign-in. Never a name,
phone number, category, age, narrative, question or answer, nor the case reference: e-mail is
copied, forwarded and read on shared screens.

The portal's notices go through the outbox (``helpline.outbox``): queued in the transaction of the
step that caused them (``referrals.services.notices.agency_notice_queue``), sent by a worker
outside any transaction through Django's e-mail backend (SMTP in production, the console in the
embedded mode), retried with backoff while the mail server is unreachable, so a mail server that
is down never blocks nor undoes the step.
"""

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from helpline.models import Role
from helpline.outbox import DeliveryError, Outbox, outbox_attempt, outbox_register
from helpline.retry import RetryPolicy
from referrals.models import AgencyNotice, DeliveryStatus, NoticeKind

logger = logging.getLogger(__name__)

OUTBOX_NAME = "agency_notice"
MAX_RECIPIENTS = 50


def portal_url(path: str = "/authority/") -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def deadline_text(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def notice_email(*, subject: str, lines: list[str], link: str, to: list[str], key: str) -> EmailMessage:
    """The message: ``lines`` (no content, ever), the link, the warning not to reply with case details.
    Its Message-ID comes from ``key`` (the item's id), so a notice sent again after a crash is the same
    message to mail software."""
    body = [
        *lines,
        "",
        _("Sign in to the portal to read it (two-factor sign-in required):"),
        link,
        "",
        _("This e-mail holds no case details on purpose. Please never reply with case details."),
    ]
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = (settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost").strip(">") or "localhost"
    return EmailMessage(
        subject=subject,
        body="\n".join(body) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Message-ID": f"<referral-notice-{digest}@{domain}>", "Auto-Submitted": "auto-generated"},
    )


def notice_send(message: EmailMessage, *, key: str) -> None:
    """Send through Django's e-mail backend; DeliveryError in plain words (retried unless permanent)."""
    try:
        get_connection(fail_silently=False).send_messages([message])
    except smtplib.SMTPRecipientsRefused:
        logger.warning("Mail server refused the recipients of notice %s", key)
        raise DeliveryError(
            _("The mail server refused the agency's e-mail addresses. Check the agency's settings."),
            permanent=True,
            code="recipients_refused",
        ) from None
    except smtplib.SMTPAuthenticationError:
        logger.error("Mail server refused this server's credentials (notice %s)", key)
        raise DeliveryError(
            _("The mail server refused this server's credentials. Tell an administrator."),
            permanent=True,
            code="smtp_auth",
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Could not send notice %s: %s", key, type(exc).__name__)
        raise DeliveryError(
            _("Could not reach the mail server. Trying again shortly."), permanent=False, code="network"
        ) from None


# --- the portal's notices to an agency's users --------------------------------------------------


def notice_recipients(agency) -> list[str]:
    """The agency's notice address if it has one, else the e-mail of each active authority user of it."""
    if agency.notice_email:
        return [agency.notice_email]
    users = (
        get_user_model()
        .objects.filter(agency_membership__agency=agency, is_active=True, staff__role=Role.AUTHORITY)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)[:MAX_RECIPIENTS]
    )
    return sorted(set(users))


def _lines(notice: AgencyNotice) -> tuple[str, list[str]]:
    referral = notice.referral
    names = {"helpline": referral.case.line.name, "agency": notice.agency.name}
    urgency = {"urgent": _("Urgent: "), "immediate": _("Immediate: ")}.get(referral.urgency, "")
    if notice.kind == NoticeKind.NEW_REFERRAL:
        subject = urgency + _("a referral from %(helpline)s is waiting") % names
        lines = [_("A new referral from %(helpline)s is waiting for %(agency)s in the authority portal.") % names]
        if referral.acknowledge_by:
            lines.append(
                _("Please acknowledge it by %(deadline)s.") % {"deadline": deadline_text(referral.acknowledge_by)}
            )
    elif notice.kind == NoticeKind.QUESTION:
        subject = _("%(helpline)s asked a question about a referral") % names
        lines = [_("%(helpline)s asked %(agency)s a question about a referral, in the authority portal.") % names]
    elif notice.kind == NoticeKind.ANSWER:
        subject = _("%(helpline)s answered your question") % names
        lines = [_("%(helpline)s answered a question %(agency)s asked about a referral.") % names]
    elif notice.kind == NoticeKind.WITHDRAWN:
        subject = _("%(helpline)s withdrew a referral") % names
        lines = [
            _("%(helpline)s withdrew a referral it had sent to %(agency)s.") % names,
            _("Please stop acting on it. What it shared is no longer shown in the authority portal."),
        ]
    else:
        subject = urgency + _("a referral from %(helpline)s is overdue") % names
        lines = [_("A referral from %(helpline)s to %(agency)s is past its deadline in the authority portal.") % names]
    return subject[:1].upper() + subject[1:], lines


@dataclass(frozen=True)
class Prepared:
    notice_id: str
    message: EmailMessage | None


class AgencyNoticeOutbox(Outbox):
    name = OUTBOX_NAME
    model = AgencyNotice

    def policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=settings.REFERRAL_DELIVERY_MAX_ATTEMPTS,
            base_seconds=settings.REFERRAL_DELIVERY_RETRY_SECONDS,
            max_seconds=3600,
        )

    def queryset(self):
        return AgencyNotice.objects.select_related("agency", "referral__case__line")

    def pending(self):
        return Q(status=DeliveryStatus.PENDING)

    def in_flight(self):
        return Q(status=DeliveryStatus.SENDING)

    def begin(self, notice: AgencyNotice):
        notice.status = DeliveryStatus.SENDING
        recipients = notice_recipients(notice.agency)
        notice.recipients = len(recipients)
        message = None
        if recipients:
            with override(settings.LANGUAGE_CODE):
                subject, lines = _lines(notice)
                link = portal_url(f"/authority/referrals/{notice.referral_id}/")
                message = notice_email(subject=subject, lines=lines, link=link, to=recipients, key=str(notice.pk))
        return Prepared(str(notice.pk), message), ["status", "recipients"]

    def send(self, prepared: Prepared):
        if prepared.message is None:
            return "nobody"  # no one to tell: the agency has no notice address and no user with an e-mail
        notice_send(prepared.message, key=prepared.notice_id)
        return "sent"

    def succeeded(self, notice: AgencyNotice, result) -> list[str]:
        notice.status = DeliveryStatus.DELIVERED
        notice.sent_at = timezone.now()
        notice.last_error = ""
        return ["status", "sent_at", "last_error"]

    def retry_later(self, notice: AgencyNotice, error: DeliveryError) -> list[str]:
        notice.status = DeliveryStatus.PENDING
        notice.last_error = error.reason[:255]
        return ["status", "last_error"]

    def give_up(self, notice: AgencyNotice, error: DeliveryError) -> list[str]:
        notice.status = DeliveryStatus.FAILED
        notice.last_error = error.reason[:255]
        return ["status", "last_error"]

    def released(self) -> dict:
        return {"status": DeliveryStatus.PENDING}


AGENCY_NOTICE_OUTBOX = outbox_register(AgencyNoticeOutbox())


def notice_attempt(*, notice_id) -> str:
    """One attempt for one notice, now, in this thread (what the outbox task does)."""
    return outbox_attempt(outbox=AGENCY_NOTICE_OUTBOX, item_id=str(notice_id))
