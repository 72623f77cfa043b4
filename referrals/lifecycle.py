"""The referral lifecycle: one transition table, and the clear error for a move it does not allow.

    proposed ─▶ approved ─▶ queued ─▶ sent ─▶ acknowledged ─▶ accepted ─▶ closed (with outcome)
        │  └──────────────▶ queued          │        │     └─▶ declined (reason) ─▶ closed
        └▶ dismissed (counsellor declined)  │        └──▶ accepted / declined
                                            └─▶ failed ─▶ queued (sent again)
    withdrawn (reason): from any open state before closed

A referral that needs no approval goes from proposed straight to queued. ``failed``
is where exhausted or permanent delivery failures end; a supervisor can queue it again.
This module is pure: services (``referrals.services.referrals``) look moves up here.
"""

from django.utils.translation import gettext_lazy as _


class Status:
    PROPOSED = "proposed"
    APPROVED = "approved"
    QUEUED = "queued"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    FAILED = "failed"
    DISMISSED = "dismissed"


STATUS_LABELS = {
    Status.PROPOSED: _("Proposed"),
    Status.APPROVED: _("Approved"),
    Status.QUEUED: _("Queued for delivery"),
    Status.SENT: _("Sent"),
    Status.ACKNOWLEDGED: _("Acknowledged"),
    Status.ACCEPTED: _("Accepted"),
    Status.DECLINED: _("Declined by the agency"),
    Status.CLOSED: _("Closed"),
    Status.WITHDRAWN: _("Withdrawn"),
    Status.FAILED: _("Delivery failed"),
    Status.DISMISSED: _("Not made (declined by the counsellor)"),
}

# Moves: (from, to) -> the event name recorded. Anything not listed is impossible.
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.PROPOSED, Status.APPROVED): "approved",
    (Status.PROPOSED, Status.QUEUED): "confirmed",
    (Status.PROPOSED, Status.DISMISSED): "dismissed",
    (Status.APPROVED, Status.QUEUED): "confirmed",
    (Status.QUEUED, Status.SENT): "sent",
    (Status.QUEUED, Status.FAILED): "failed",
    (Status.FAILED, Status.QUEUED): "requeued",
    (Status.SENT, Status.ACKNOWLEDGED): "acknowledged",
    (Status.SENT, Status.ACCEPTED): "accepted",
    (Status.SENT, Status.DECLINED): "declined",
    (Status.ACKNOWLEDGED, Status.ACCEPTED): "accepted",
    (Status.ACKNOWLEDGED, Status.DECLINED): "declined",
    (Status.ACCEPTED, Status.CLOSED): "closed",
    (Status.DECLINED, Status.CLOSED): "closed",
    **{
        (state, Status.WITHDRAWN): "withdrawn"
        for state in (
            Status.PROPOSED,
            Status.APPROVED,
            Status.QUEUED,
            Status.SENT,
            Status.ACKNOWLEDGED,
            Status.ACCEPTED,
            Status.FAILED,
        )
    },
}

# Moves that need a note saying why.
NEEDS_REASON = {Status.DISMISSED, Status.DECLINED, Status.WITHDRAWN}
# Where a referral's story ends.
FINAL = {Status.CLOSED, Status.WITHDRAWN, Status.DISMISSED}
# Handed to the agency and waiting on it: what escalation watches.
AWAITING_ACKNOWLEDGEMENT = {Status.SENT}
AWAITING_COMPLETION = {Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED}
# What an agency sees in its inbox (once it was sent to them: a withdrawn proposal never reaches it).
AT_AGENCY = {Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED, Status.DECLINED, Status.CLOSED, Status.WITHDRAWN}
# Where the agency still has something to do.
AGENCY_OPEN = {Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED, Status.DECLINED}
# Where both sides may still ask each other questions and answer them: not once it was declined,
# closed or withdrawn (its story with the agency is over; what is still open is refused).
QUESTIONS_OPEN = {Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED}
# Acted on by a person: re-evaluation of the SOP never proposes these again.
OPEN = set(STATUS_LABELS) - FINAL


class TransitionRefused(Exception):
    """A move the lifecycle does not allow; the message says what and what is possible instead."""

    def __init__(self, current: str, wanted: str):
        self.current, self.wanted = current, wanted
        possible = sorted(str(STATUS_LABELS[to]).lower() for (frm, to) in TRANSITIONS if frm == current)
        super().__init__(
            _("A referral that is %(current)s cannot become %(wanted)s; from here it can only become: %(possible)s.")
            % {
                "current": str(STATUS_LABELS.get(current, current)).lower(),
                "wanted": str(STATUS_LABELS.get(wanted, wanted)).lower(),
                "possible": ", ".join(possible) or _("nothing (its story has ended)"),
            }
        )


def transition_event(current: str, wanted: str) -> str:
    """The event name of the move, or TransitionRefused."""
    try:
        return TRANSITIONS[(current, wanted)]
    except KeyError:
        raise TransitionRefused(current, wanted) from None


def transitions_from(current: str) -> list[str]:
    return [to for (frm, to) in TRANSITIONS if frm == current]
