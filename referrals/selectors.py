"""Reads of the referrals app that depend on who asks (filtered in SQL)."""

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Approval, ApprovalStatus
from cases.selectors import case_is_visible, cases_visible_to
from cases.timeline import TimelineEntry
from helpline.models import Staff
from referrals.lifecycle import AWAITING_ACKNOWLEDGEMENT, AWAITING_COMPLETION, Status
from referrals.models import Agency, AgencyMembership, Referral, ReferralEvent


def agency_of(user) -> Agency | None:
    """The agency an authority user works for, or None."""
    if user is None or not user.is_authenticated:
        return None
    membership = AgencyMembership.objects.filter(user=user).select_related("agency").first()
    return membership.agency if membership is not None and membership.agency.active else None


def agencies_search(*, need: str = "", language: str = "", region: str = "") -> QuerySet:
    """Active agencies that help with ``need`` (a taxonomy code: an agency serving a parent code
    or listing no needs fits), speak ``language`` (or list none), and cover ``region`` (or are national).
    National agencies come after regional ones."""
    agencies = Agency.objects.filter(active=True)
    if need:
        parts = need.split(".")
        ancestors = [".".join(parts[: index + 1]) for index in range(len(parts))]
        matches = Q(needs=[])
        for code in ancestors:
            matches |= Q(needs__contains=[code])
        agencies = agencies.filter(matches)
    if language:
        agencies = agencies.filter(Q(languages=[]) | Q(languages__contains=[language]))
    if region:
        agencies = agencies.filter(Q(national=True) | Q(regions__contains=[region]))
    return agencies.order_by("national", "name")


def agency_for_referral(*, kind: str, region: str | None) -> Agency | None:
    """The agency of ``kind`` covering ``region``, falling back to the national one of that kind."""
    agencies = Agency.objects.filter(active=True, kind=kind)
    if region:
        regional = agencies.filter(regions__contains=[region], national=False).order_by("name").first()
        if regional is not None:
            return regional
    return agencies.filter(national=True).order_by("name").first()


# --- referrals, for the people who may see them ----------------------------------------------


def referrals_for_case(user, case) -> QuerySet:
    """The referrals of a case the user may see (None when the case is not theirs to see)."""
    if not case_is_visible(user, case):
        return Referral.objects.none()
    return (
        Referral.objects.filter(case=case)
        .select_related("agency", "approval", "confirmed_by__user")
        .prefetch_related("events__actor__user")
        .order_by("created_at")
    )


def referral_for_write(user, referral_id) -> Referral | None:
    """A referral whose case the user may work on, or None (a 404 for the view)."""
    return (
        Referral.objects.filter(pk=referral_id, case__in=cases_visible_to(user))
        .select_related("case", "agency")
        .first()
    )


def referrals_for_agency(user) -> QuerySet:
    """What an authority user's inbox lists: referrals sent to their agency only (never proposals)."""
    agency = agency_of(user)
    if agency is None:
        return Referral.objects.none()
    return (
        Referral.objects.filter(agency=agency)
        .exclude(status__in=[Status.PROPOSED, Status.APPROVED, Status.QUEUED, Status.DISMISSED, Status.FAILED])
        .select_related("case", "agency")
        .order_by("-sent_at")
    )


def referrals_needing_attention(user) -> dict:
    """For a supervisor: overdue and failed referrals, and pending plan approvals, of their lines."""
    lines = Staff.objects.filter(user=user).values("lines")
    mine = Referral.objects.filter(case__line__in=lines).select_related("case", "agency")
    now = timezone.now()
    return {
        "overdue": list(
            mine.filter(
                Q(status__in=AWAITING_ACKNOWLEDGEMENT, acknowledge_by__lte=now)
                | Q(status__in=AWAITING_COMPLETION, complete_by__lte=now)
            ).order_by("acknowledge_by")[:200]
        ),
        "failed": list(mine.filter(status=Status.FAILED).order_by("-updated_at")[:200]),
        "approvals": list(
            Approval.objects.filter(case__line__in=lines, kind="referral_plan", status=ApprovalStatus.PENDING)
            .exclude(requested_by__user=user)
            .select_related("case", "requested_by__user")
            .order_by("requested_at")[:200]
        ),
    }


def approval_for_decision(user, approval_id) -> Approval | None:
    """A pending referral-plan approval on a line the user supervises, or None."""
    lines = Staff.objects.filter(user=user, role="supervisor").values("lines")
    return (
        Approval.objects.filter(pk=approval_id, kind="referral_plan", case__line__in=lines)
        .select_related("case", "requested_by")
        .first()
    )


EVENT_TITLES = {
    "proposed": _("Referral proposed by the SOP"),
    "created_manually": _("Referral made by hand"),
    "edited": _("Referral proposal edited"),
    "dismissed": _("Referral proposal declined"),
    "confirmation": _("Referral confirmed by the counsellor"),
    "consent_recorded": _("Consent recorded"),
    "override_requested": _("Consent override asked"),
    "override_approved": _("Consent override approved"),
    "override_refused": _("Consent override refused"),
    "approval_refused": _("Referral plan refused"),
    "approved": _("Referral approved by a supervisor"),
    "confirmed": _("Referral queued for delivery"),
    "requeued": _("Referral queued again"),
    "sent": _("Referral delivered"),
    "delivery_retry": _("Delivery attempt failed; retrying"),
    "failed": _("Referral delivery failed"),
    "acknowledged": _("Referral acknowledged"),
    "accepted": _("Referral accepted"),
    "declined": _("Referral declined by the agency"),
    "closed": _("Referral closed"),
    "withdrawn": _("Referral withdrawn"),
    "acknowledge_overdue": _("Acknowledgement overdue: supervisors alerted"),
    "complete_overdue": _("Completion overdue: supervisors alerted"),
}


def referral_timeline(case) -> list[TimelineEntry]:
    """The case timeline's referral entries (cases.timeline): every proposal, decision and event, no notes.

    The case page shows them only to whoever may read the case."""
    events = (
        ReferralEvent.objects.filter(referral__case=case)
        .select_related("referral__agency", "actor__user")
        .order_by("created_at")
    )
    url = reverse("referrals:plan", kwargs={"case_id": case.pk})
    return [
        TimelineEntry(
            at=event.created_at,
            kind="referral",
            title=f"{EVENT_TITLES.get(event.kind, event.kind)}: {event.referral.agency.name}",
            detail=event.detail,
            actor=event.actor.user.get_username() if event.actor else "",
            url=url,
        )
        for event in events
    ]
