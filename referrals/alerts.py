"""Telling a line's supervisors that a referral needs them (overdue, or not delivered), or that the
SOP asks them to look at a case (a notice for ``on_call``).

Live: the referral is a row of the Alerts card on the supervision page (``helpline.alerts``, the
``referral_attention`` source, read from the database: overdue and undelivered referrals), which
``supervisor_alerts_changed`` refreshes after commit; the list at ``/referrals/attention/`` refreshes
itself too. By email: a notice with
the agency's name and a link, never case content (no name, no summary, no category), sent
after the transaction commits so a rolled-back change alerts nobody.
"""

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from helpline.alerts import supervisor_alerts_changed
from helpline.models import Role, Staff

logger = logging.getLogger(__name__)

SUBJECTS = {
    "failed": "Referral not delivered",
    "acknowledge_overdue": "Referral not acknowledged in time",
    "complete_overdue": "Referral not completed in time",
}


def supervisor_addresses(line_id) -> list[str]:
    return sorted(
        address
        for address in Staff.objects.filter(role=Role.SUPERVISOR, lines=line_id, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def supervisors_alert(*, referral, kind: str) -> None:
    """Alert the supervisors of the referral's line, live and by email (after commit)."""
    line_id = referral.case.line_id
    supervisor_alerts_changed(line_id=line_id)
    link = settings.PUBLIC_BASE_URL + reverse("referrals:attention")
    texts = {
        "failed": _("A referral to %(agency)s could not be delivered. See what needs doing: %(link)s"),
        "acknowledge_overdue": _("A referral to %(agency)s was not acknowledged by its deadline. See: %(link)s"),
        "complete_overdue": _("A referral to %(agency)s was not completed by its deadline. See: %(link)s"),
    }
    body = texts[kind] % {"agency": referral.agency.name, "link": link}
    addresses = supervisor_addresses(line_id)
    if not addresses:
        return
    _email_after_commit(SUBJECTS[kind], body, addresses, line_id=line_id)


NOTICE_SUBJECT = "A case needs a supervisor"


def supervisors_notice_email(*, notice) -> None:
    """E-mail the line's supervisors (after commit) that an SOP rule asks the one on call to look at a case:
    the rule's id and a link to the supervision page, never the case's reference or content."""
    line_id = notice.case.line_id
    addresses = supervisor_addresses(line_id)
    if not addresses:
        return
    link = settings.PUBLIC_BASE_URL + reverse("helpline:supervisor")
    body = _("An SOP rule (%(rule)s) asks the supervisor on call to look at a case now. See Alerts: %(link)s") % {
        "rule": notice.rule_id,
        "link": link,
    }
    _email_after_commit(NOTICE_SUBJECT, body, addresses, line_id=line_id)


def _email_after_commit(subject: str, body: str, addresses: list[str], *, line_id) -> None:
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses]

    def send():
        try:
            send_mass_mail(messages, fail_silently=False)
        except Exception:  # noqa: BLE001 - the alert is also live on the supervisors' pages; the write stands
            logger.exception("Could not email the supervisors of line %s", line_id)

    transaction.on_commit(send)
