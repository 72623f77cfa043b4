"""The SOP's notices to staff and offers to the child: what ``notify`` and ``offer`` proposals become.

``steps_propose`` runs inside ``referrals_propose`` (the same transaction): each ``notify``
proposal becomes one ``Notice`` per case and rule, which alerts the line's supervisors live on
their supervision page (``helpline.alerts``) and, for ``on_call``, by an e-mail with a link and
no case content; each ``offer`` becomes one ``Offer`` the counsellor sees on the case's referral
plan. A second evaluation never raises a notice or an offer twice.

Do not alert offenders: staff are the only people the platform notifies. The engine already
drops ``notify: caregiver`` when a caregiver is recorded as the alleged perpetrator; a notice
keeps only the targets the engine left, and checks the facts again so that no notice ever
suggests telling a caregiver who is the alleged perpetrator. An offer is for the child: the
Report Remove hand-off sends only an age range (13-15 or 16-17) and a random reference.
"""

import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.selectors import case_facts, supervises_case
from helpline.alerts import supervisor_alerts_changed
from helpline.audit.services import audit_record
from helpline.outbox import DeliveryError
from helpline.vault.services import seal
from referrals import actions
from referrals.alerts import supervisors_notice_email
from referrals.models import Agency, Notice, Offer, OfferStatus
from referrals.services.agencies import agency_secrets
from referrals.services.events import ReferralError, case_access_require, staff_of
from referrals.sop.engine import perpetrator_is_caregiver
from referrals.transports import HandOffRequest, transport_get, transports_handing_off

# Who on the staff a notice alerts (the rest of NOTIFY_TARGETS are people the counsellor may tell).
STAFF_TARGETS = ("supervisors", "on_call")
REPORT_REMOVE = "report_remove"
REPORT_REMOVE_RANGES = ("13-15", "16-17")
UNDER_13 = "under-13"
ADULT = "18+"


def steps_propose(*, case, proposals, facts: dict) -> dict:
    """Notices and offers for the ``notify`` and ``offer`` proposals of one evaluation (inside its transaction)."""
    raised, offered, still_offered = [], [], set()
    protect = perpetrator_is_caregiver(facts)
    for proposal in proposals:
        if proposal.kind == "notify":
            notice = _notice_raise(case, proposal, protect=protect)
            if notice is not None:
                raised.append(notice)
        elif proposal.kind == "offer":
            offer = _offer_propose(case, proposal)
            if offer is not None:
                offered.append(offer)
            still_offered.add((proposal.rule_id, proposal.offer))
    if protect:
        _notices_protect(case)
    for offer in Offer.objects.filter(case=case, status=OfferStatus.PROPOSED):
        if (offer.rule_id, offer.offer) not in still_offered:
            offer.status = OfferStatus.WITHDRAWN
            offer.save(update_fields=["status"])
            audit_record(action=actions.OFFER_WITHDRAWN, record=offer, details=_offer_details(offer))
    return {"notices": raised, "offers": offered}


def _notice_raise(case, proposal, *, protect: bool) -> Notice | None:
    targets = [target for target in proposal.notify if not (protect and target == "caregiver")]
    withheld = list(proposal.withheld)
    if protect and "caregiver" in proposal.notify and "notify.caregiver" not in withheld:
        withheld.append("notify.caregiver")
    if not targets or Notice.objects.filter(case=case, rule_id=proposal.rule_id).exists():
        return None
    notice = Notice.objects.create(
        case=case,
        sop_name=proposal.sop,
        sop_version=proposal.sop_version,
        rule_id=proposal.rule_id,
        why=proposal.why,
        notify=targets,
        withheld=withheld,
    )
    audit_record(
        action=actions.NOTICE_RAISED,
        record=notice,
        details={"case": case.pk, "rule": proposal.rule_id, "sop": proposal.sop_version, "notify": targets},
    )
    if any(target in STAFF_TARGETS for target in targets):
        supervisor_alerts_changed(line_id=case.line_id)
    if "on_call" in targets:
        supervisors_notice_email(notice=notice)
    return notice


def _notices_protect(case) -> None:
    """A notice raised before a caregiver was recorded as the alleged perpetrator stops suggesting
    telling them (the plan and the timeline read ``notify``), whether or not its rule still fires."""
    for notice in Notice.objects.filter(case=case, notify__contains=["caregiver"]).select_for_update():
        notice.notify = [target for target in notice.notify if target != "caregiver"]
        if "notify.caregiver" not in notice.withheld:
            notice.withheld = [*notice.withheld, "notify.caregiver"]
        notice.save(update_fields=["notify", "withheld"])
        audit_record(
            action=actions.NOTICE_CAREGIVER_WITHHELD,
            record=notice,
            details={"case": case.pk, "rule": notice.rule_id, "notify": notice.notify},
        )


def _offer_details(offer: Offer) -> dict:
    return {"case": offer.case_id, "rule": offer.rule_id, "offer": offer.offer}


def _offer_propose(case, proposal) -> Offer | None:
    existing = Offer.objects.filter(case=case, rule_id=proposal.rule_id, offer=proposal.offer).first()
    if existing is not None:
        if existing.status == OfferStatus.WITHDRAWN:
            existing.status = OfferStatus.READY if existing.link_at else OfferStatus.PROPOSED
            existing.save(update_fields=["status"])
            details = {**_offer_details(existing), "sop": proposal.sop_version, "again": True}
            audit_record(action=actions.OFFER_PROPOSED, record=existing, details=details)
        return None
    offer = Offer.objects.create(
        case=case,
        sop_name=proposal.sop,
        sop_version=proposal.sop_version,
        rule_id=proposal.rule_id,
        why=proposal.why,
        offer=proposal.offer,
    )
    audit_record(
        action=actions.OFFER_PROPOSED,
        record=offer,
        details={"case": case.pk, "rule": proposal.rule_id, "sop": proposal.sop_version, "offer": proposal.offer},
    )
    return offer


# --- a supervisor marks a notice seen ------------------------------------------------------------


@transaction.atomic
def notice_mark_seen(*, actor, notice: Notice) -> Notice:
    """A supervisor of the case's line says they saw the notice; it leaves every supervisor's alerts."""
    notice = Notice.objects.select_for_update(of=("self",)).select_related("case__line").get(pk=notice.pk)
    if not supervises_case(actor, notice.case):
        raise PermissionDenied
    if notice.seen_at is not None:
        return notice
    notice.seen_at = timezone.now()
    notice.seen_by = staff_of(actor)
    notice.save(update_fields=["seen_at", "seen_by"])
    audit_record(
        action=actions.NOTICE_SEEN, actor=actor, record=notice, details={"case": notice.case_id, "rule": notice.rule_id}
    )
    supervisor_alerts_changed(line_id=notice.case.line_id)
    return notice


# --- the counsellor gets the Report Remove link ------------------------------------------------


def offer_age_range(facts: dict) -> str:
    """The Report Remove age range the case's facts give: 13-15, 16-17, under-13, 18+, or "" when unknown."""
    band, age = facts.get("age_band"), facts.get("age")
    if isinstance(age, int) and not isinstance(age, bool):
        if age < 13:
            return UNDER_13
        if age <= 15:
            return "13-15"
        if age <= 17:
            return "16-17"
        return ADULT
    if band in REPORT_REMOVE_RANGES:
        return band
    if band in ("0-5", "6-9", "10-12"):
        return UNDER_13
    if band == ADULT:
        return ADULT
    return ""


def offer_agency() -> Agency | None:
    """The active agency whose transport makes the Report Remove hand-off (national first), or None."""
    names = transports_handing_off(REPORT_REMOVE)
    if not names:
        return None
    return Agency.objects.filter(active=True, transport__in=names).order_by("-national", "name").first()


@transaction.atomic
def _offer_prepare(*, actor, offer: Offer, age_range: str) -> tuple[Offer, Agency]:
    offer = Offer.objects.select_for_update(of=("self",)).select_related("case__data_key").get(pk=offer.pk)
    case_access_require(actor, offer.case)
    if offer.offer != REPORT_REMOVE or offer.status == OfferStatus.WITHDRAWN:
        raise ReferralError(_("This offer is no longer proposed for the case."))
    known = offer_age_range(case_facts(offer.case))
    if known == UNDER_13 or age_range == UNDER_13:
        raise ReferralError(
            _("Report Remove through the helpline is for children aged 13 to 17; the child's age is under 13.")
        )
    if known == ADULT:
        # Never an age the IWF does not take: the case says 18 or older, whatever range is chosen.
        raise ReferralError(
            _("Report Remove through the helpline is for children aged 13 to 17; the case records them as 18 or older.")
        )
    if age_range not in REPORT_REMOVE_RANGES:
        raise ReferralError(_("Choose the child's age range: 13 to 15, or 16 to 17."))
    agency = offer_agency()
    if agency is None:
        raise ReferralError(
            _("No agency is set up to make the Report Remove hand-off. Ask an administrator to configure the IWF.")
        )
    if not offer.reference:
        offer.reference = "RR-" + secrets.token_hex(6).upper()
    offer.age_range, offer.agency = age_range, agency
    offer.save(update_fields=["reference", "age_range", "agency"])
    return offer, agency


@transaction.atomic
def _offer_link_store(*, actor, offer: Offer, link: str) -> Offer:
    offer = Offer.objects.select_for_update(of=("self",)).select_related("case__data_key").get(pk=offer.pk)
    if offer.status == OfferStatus.READY:
        return offer  # two clicks at once: the first link stands, audited once (the IWF gave the same one)
    seal(offer, "link", link)
    offer.status = OfferStatus.READY
    offer.link_at = timezone.now()
    offer.link_by = staff_of(actor)
    offer.save(update_fields=["link", "status", "link_at", "link_by"])
    audit_record(
        action=actions.OFFER_LINK_OBTAINED,
        actor=actor,
        record=offer,
        details={"case": offer.case_id, "agency": offer.agency.code, "age_range": offer.age_range},
    )
    return offer


def offer_link_obtain(*, actor, offer: Offer, age_range: str) -> Offer:
    """Make the Report Remove hand-off for the child and keep the link for the counsellor to give them.

    Two short transactions around the call to the agency (never a network call inside one): the
    first checks the offer and the age range and fixes the reference, the second seals the link
    and audits. The reference stays the same on every try, and the IWF answers one token per
    reference, so trying again after a failure gives the same link, not a second hand-off.
    """
    if offer.status == OfferStatus.READY:
        return offer
    offer, agency = _offer_prepare(actor=actor, offer=offer, age_range=age_range)
    request = HandOffRequest(
        kind=REPORT_REMOVE,
        age_range=offer.age_range,
        reference=offer.reference,
        config=dict(agency.transport_config),
        secrets=agency_secrets(agency),
    )
    try:
        hand_off = transport_get(agency.transport).hand_off(request)
    except DeliveryError as error:
        if error.permanent:
            raise ReferralError(error.reason) from None
        # The counsellor is waiting for the link: nothing retries behind their back, they ask again.
        raise ReferralError(
            _("The agency could not give the link just now. Nothing was sent to the child; try again in a moment.")
        ) from None
    except LookupError:
        raise ReferralError(_("The agency's delivery method is not installed. Tell an administrator.")) from None
    return _offer_link_store(actor=actor, offer=offer, link=hand_off.link)
