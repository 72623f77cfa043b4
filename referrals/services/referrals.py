"""Write paths of the referral lifecycle: proposals, the counsellor's decisions, consent, the
supervisor's approval, queueing with its delivery, withdrawal and queueing a failed referral again.
The agency's own steps are referrals.services.agency_side.

Every move goes through ``referral_move`` (the one transition table, referrals.lifecycle), writes a
``ReferralEvent`` and an audit event, and happens in one transaction. A confirmed referral is
queued (document built, sealed, and its ``Delivery`` written with the outbox task, all in that
transaction) as soon as its gates allow: a supervisor's approval when the rule needs one, and
consent recorded (or not required, or overridden by a supervisor) when the rule asks for it.

Human judgement over automation: the SOP only ever *proposes*; nothing is sent until a person
confirms it. Do not alert offenders: consent is never recorded as a caregiver's when the
caregiver is recorded as the alleged perpetrator.
"""

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Approval, ApprovalStatus, Case
from cases.selectors import case_facts, supervises_case
from helpline.audit.services import audit_record
from helpline.outbox import outbox_enqueue, outbox_get
from helpline.vault.services import seal
from referrals import actions
from referrals.document import document_build, document_encode, document_keys
from referrals.document_fields import field_paths_unknown
from referrals.lifecycle import Status
from referrals.models import (
    Agency,
    ConsentBy,
    ConsentMethod,
    ConsentRule,
    ConsentStatus,
    Delivery,
    NoticeKind,
    Origin,
    Referral,
    ReferralEvent,
    Urgency,
)
from referrals.selectors import agency_for_referral
from referrals.services.events import (
    OUTBOX_NAME,
    ReferralError,
    case_access_require,
    reason_clean,
    referral_event_add,
    referral_lock,
    referral_move,
    staff_of,
)
from referrals.services.notices import agency_notice_queue
from referrals.services.steps import steps_propose
from referrals.sop.engine import evaluate
from referrals.sop.selectors import sop_active_for

logger = logging.getLogger(__name__)

# The approval kind of a case's referral plan (consent overrides and sensitive referrals).
APPROVAL_KIND = "referral_plan"
DEFAULT_ACKNOWLEDGE_WITHIN = timedelta(hours=72)


# --- proposals from the SOP -------------------------------------------------------------------


def _resolve(proposal) -> Agency | None:
    if proposal.agency_code:
        return Agency.objects.filter(code=proposal.agency_code, active=True).first()
    if proposal.jurisdiction is None:
        return agency_for_referral(kind=proposal.agency_kind, region=None)
    agency = agency_for_referral(kind=proposal.agency_kind, region=proposal.jurisdiction)
    if agency is None or (not proposal.national_fallback and agency.national):
        return None if not proposal.national_fallback else agency
    return agency


def _proposal_values(proposal, agency: Agency) -> dict:
    return {
        "sop_name": proposal.sop,
        "sop_version": proposal.sop_version,
        "why": proposal.why,
        "proposal": proposal.as_dict(),
        "urgency": proposal.urgency or Urgency.ROUTINE,
        "acknowledge_within": proposal.due_within,
        "complete_within": proposal.complete_within,
        "needs_approval": proposal.needs_approval,
        "share": list(proposal.share),
        "consent_rule": proposal.consent or ConsentRule.REQUIRED,
        "consent_asked_of": list(proposal.consent_by),
    }


@transaction.atomic
def referrals_propose(*, case_id: int, actor_id: int | None = None, facts: dict | None = None, sop=None) -> list:
    """Evaluate the line's active SOP against the case and bring its proposed referrals up to date
    (and its notices and offers: referrals.services.steps).

    New proposals are created; proposals nobody has acted on yet follow the new facts; anything
    a person already acted on (confirmed, declined, sent, …) is left alone and never proposed
    again. A proposal the SOP no longer makes, and nobody acted on, is withdrawn. Returns the
    referrals created.
    """
    case = Case.objects.select_for_update().select_related("line").get(pk=case_id)
    sop = sop if sop is not None else sop_active_for(case.line)
    if sop is None:
        return []
    facts = facts if facts is not None else case_facts(case)
    created, still_proposed = [], set()
    proposals = evaluate(facts, sop)
    # Notices to staff and offers to the child (referrals.services.steps), in the same transaction.
    steps_propose(case=case, proposals=proposals, facts=facts)
    for proposal in proposals:
        if proposal.kind != "refer":
            continue
        agency = _resolve(proposal)
        if agency is None:
            logger.warning("Case %s: SOP rule %s names no active agency", case.pk, proposal.rule_id)
            continue
        values = _proposal_values(proposal, agency)
        existing = Referral.objects.filter(
            case=case, agency=agency, rule_id=proposal.rule_id, origin=Origin.SOP
        ).first()
        if existing is None:
            referral = Referral.objects.create(
                case=case, agency=agency, rule_id=proposal.rule_id, origin=Origin.SOP, status=Status.PROPOSED, **values
            )
            referral_event_add(
                referral, kind="proposed", actor=None, to_status=Status.PROPOSED, detail=proposal.rule_id
            )
            audit_record(
                action=actions.REFERRAL_PROPOSED,
                record=referral,
                details={"case": case.pk, "agency": agency.code, "rule": proposal.rule_id, "sop": proposal.sop_version},
            )
            created.append(referral)
        elif existing.status == Status.PROPOSED and existing.confirmed_at is None:
            for key, value in values.items():
                setattr(existing, key, value)
            existing.save(update_fields=[*values, "updated_at"])
        still_proposed.add((agency.pk, proposal.rule_id))
    stale = Referral.objects.filter(case=case, origin=Origin.SOP, status=Status.PROPOSED, confirmed_at__isnull=True)
    for referral in stale.select_related("agency"):
        if (referral.agency_id, referral.rule_id) not in still_proposed:
            referral_move(
                referral,
                Status.WITHDRAWN,
                actor=None,
                note=_("The SOP no longer proposes this referral after the case changed."),
                detail="sop_no_longer_proposes",
            )
    return created


# --- the counsellor's decisions ---------------------------------------------------------------


@transaction.atomic
def referral_manual_create(
    *,
    actor,
    case: Case,
    agency: Agency,
    reason: str,
    urgency: str = Urgency.ROUTINE,
    consent_rule: str = ConsentRule.REQUIRED,
    share=None,
    needs_approval: bool = False,
    acknowledge_within: timedelta | None = DEFAULT_ACKNOWLEDGE_WITHIN,
) -> Referral:
    """A referral outside the SOP; it needs a reason, and is a proposal until confirmed like any other."""
    case_access_require(actor, case)
    reason = reason_clean(reason, required=True, what=_("Say why this referral is made outside the SOP."))
    if urgency not in Urgency.values or consent_rule not in ConsentRule.values:
        raise ReferralError(_("Choose an urgency and a consent rule from the lists."))
    if not agency.active:
        raise ReferralError(_("This agency is not active."))
    share = list(share or [])
    unknown = field_paths_unknown(share)
    if unknown:
        raise ReferralError(_("%(paths)s: not a field of the referral document.") % {"paths": ", ".join(unknown)})
    referral = Referral(
        case=case,
        agency=agency,
        origin=Origin.MANUAL,
        status=Status.PROPOSED,
        urgency=urgency,
        consent_rule=consent_rule,
        consent_asked_of=[ConsentBy.CHILD] if consent_rule != ConsentRule.NOT_REQUIRED else [],
        share=share,
        needs_approval=needs_approval,
        acknowledge_within=acknowledge_within,
        created_by=staff_of(actor),
    )
    referral.case = case
    seal(referral, "manual_reason", reason)
    referral.save(force_insert=True)
    referral_event_add(referral, kind="created_manually", actor=actor, to_status=Status.PROPOSED, note=reason)
    audit_record(
        action=actions.REFERRAL_CREATED_MANUALLY,
        actor=actor,
        record=referral,
        details={"case": case.pk, "agency": agency.code},
    )
    return referral


@transaction.atomic
def referral_edit(*, actor, referral: Referral, urgency: str | None = None, share=None, note: str = "") -> Referral:
    """Change a proposal before it is confirmed: its urgency, or fields to share (within the agency's own)."""
    referral = referral_lock(referral)
    case_access_require(actor, referral.case)
    if referral.status != Status.PROPOSED or referral.confirmed_at is not None:
        raise ReferralError(_("Only a proposal not yet confirmed can be edited."))
    changed = []
    if urgency is not None and urgency != referral.urgency:
        if urgency not in Urgency.values:
            raise ReferralError(_("Choose an urgency from the list."))
        referral.urgency = urgency
        changed.append("urgency")
    if share is not None:
        share = list(dict.fromkeys(share))
        unknown = field_paths_unknown(share)
        if unknown:
            raise ReferralError(_("%(paths)s: not a field of the referral document.") % {"paths": ", ".join(unknown)})
        if share != referral.share:
            referral.share = share
            changed.append("share")
    if not changed:
        return referral
    referral.save(update_fields=[*changed, "updated_at"])
    referral_event_add(referral, kind="edited", actor=actor, detail=", ".join(changed), note=note)
    audit_record(action=actions.REFERRAL_EDITED, actor=actor, record=referral, details={"changed": changed})
    return referral


@transaction.atomic
def referral_dismiss(*, actor, referral: Referral, reason: str) -> Referral:
    """The counsellor declines a proposal (a reason is required); the SOP will not propose it again."""
    referral = referral_lock(referral)
    case_access_require(actor, referral.case)
    reason = reason_clean(reason, required=True, what=_("Say why this referral is not made."))
    referral_move(referral, Status.DISMISSED, actor=actor, note=reason)
    audit_record(action=actions.REFERRAL_DISMISSED, actor=actor, record=referral, details={"case": referral.case_id})
    return referral


@transaction.atomic
def referral_confirm(*, actor, referral: Referral) -> Referral:
    """The counsellor confirms a proposal: it is queued now if approval and consent allow, else as soon as they do."""
    referral = referral_lock(referral)
    case_access_require(actor, referral.case)
    if referral.status not in (Status.PROPOSED, Status.APPROVED):
        raise ReferralError(_("This referral is no longer a proposal."))
    if referral.confirmed_at is None:
        referral.confirmed_at = timezone.now()
        referral.confirmed_by = staff_of(actor)
        referral.save(update_fields=["confirmed_at", "confirmed_by", "updated_at"])
        referral_event_add(referral, kind="confirmation", actor=actor)
        audit_record(
            action=actions.REFERRAL_CONFIRMED, actor=actor, record=referral, details={"case": referral.case_id}
        )
    if referral.needs_approval and referral.status == Status.PROPOSED:
        _approval_ask(referral, actor=actor, reason="")
    _queue_if_ready(referral, actor=actor)
    return referral


def referral_waiting_for(referral: Referral) -> list[str]:
    """What still stands between a proposal and its delivery, in plain words (empty: nothing)."""
    waiting = []
    if referral.confirmed_at is None:
        waiting.append(_("the counsellor's confirmation"))
    if referral.needs_approval and referral.status == Status.PROPOSED:
        waiting.append(_("a supervisor's approval"))
    if not _consent_satisfied(referral):
        if referral.consent_status == ConsentStatus.OVERRIDE_REQUESTED:
            waiting.append(_("a supervisor's decision on the consent override"))
        else:
            waiting.append(_("consent"))
    return waiting


def _consent_satisfied(referral: Referral) -> bool:
    if referral.consent_rule == ConsentRule.NOT_REQUIRED:
        return True
    if referral.consent_status == ConsentStatus.GIVEN:
        return True
    return referral.consent_rule == ConsentRule.OVERRIDE_ALLOWED and referral.consent_status == ConsentStatus.OVERRIDDEN


def _queue_if_ready(referral: Referral, *, actor) -> bool:
    if referral.status not in (Status.PROPOSED, Status.APPROVED) or referral_waiting_for(referral):
        return False
    if referral.consent_rule == ConsentRule.NOT_REQUIRED and referral.consent_status == ConsentStatus.PENDING:
        referral.consent_status = ConsentStatus.NOT_REQUIRED
    now = timezone.now()
    referral.acknowledge_by = now + referral.acknowledge_within if referral.acknowledge_within else None
    referral.complete_by = now + referral.complete_within if referral.complete_within else None
    document = document_build(referral=referral, actor=actor, purpose=f"referral to {referral.agency.code}")
    seal(referral, "document", document_encode(document))
    referral.save(update_fields=["consent_status", "acknowledge_by", "complete_by", "document", "updated_at"])
    referral_move(referral, Status.QUEUED, actor=actor, detail=referral.agency.transport)
    delivery = Delivery.objects.create(referral=referral, transport=referral.agency.transport)
    outbox_enqueue(outbox_get(OUTBOX_NAME), delivery.pk)
    audit_record(
        action=actions.REFERRAL_QUEUED,
        actor=actor,
        record=referral,
        details={
            "agency": referral.agency.code,
            "delivery": str(delivery.pk),
            "fields": sorted(document_keys(document)),
        },
    )
    return True


# --- consent ------------------------------------------------------------------------------------


@transaction.atomic
def referral_consent_record(*, actor, referral: Referral, by: str, method: str) -> Referral:
    """Record who consented (the child or a caregiver) and how; a confirmed referral waiting for it is queued."""
    referral = referral_lock(referral)
    case_access_require(actor, referral.case)
    if by not in ConsentBy.values or method not in ConsentMethod.values:
        raise ReferralError(_("Say who consented and how."))
    if referral.status not in (Status.PROPOSED, Status.APPROVED):
        raise ReferralError(_("Consent is recorded before a referral is sent."))
    if by == ConsentBy.CAREGIVER and case_facts(referral.case).get("perpetrator_is_caregiver"):
        raise ReferralError(
            _("The caregiver is recorded as the alleged perpetrator: ask the child, or ask a supervisor to override.")
        )
    referral.consent_status = ConsentStatus.GIVEN
    referral.consent_by = by
    referral.consent_method = method
    referral.consent_recorded_at = timezone.now()
    referral.consent_recorded_by = staff_of(actor)
    referral.save(
        update_fields=[
            "consent_status",
            "consent_by",
            "consent_method",
            "consent_recorded_at",
            "consent_recorded_by",
            "updated_at",
        ]
    )
    referral_event_add(referral, kind="consent_recorded", actor=actor, detail=f"{by}, {method}")
    audit_record(
        action=actions.REFERRAL_CONSENT_RECORDED, actor=actor, record=referral, details={"by": by, "method": method}
    )
    _queue_if_ready(referral, actor=actor)
    return referral


@transaction.atomic
def referral_override_request(*, actor, referral: Referral, reason: str) -> Referral:
    """Ask a supervisor to send without consent (only where the rule allows an override); a reason is required."""
    referral = referral_lock(referral)
    case_access_require(actor, referral.case)
    reason = reason_clean(reason, required=True, what=_("Say why consent cannot be asked for or must be overridden."))
    if referral.consent_rule != ConsentRule.OVERRIDE_ALLOWED:
        raise ReferralError(_("This referral's rule does not allow consent to be overridden."))
    if referral.status not in (Status.PROPOSED, Status.APPROVED):
        raise ReferralError(_("This referral is no longer a proposal."))
    if referral.consent_status in (ConsentStatus.GIVEN, ConsentStatus.OVERRIDDEN):
        raise ReferralError(_("Consent is already settled for this referral."))
    referral.consent_status = ConsentStatus.OVERRIDE_REQUESTED
    referral.save(update_fields=["consent_status", "updated_at"])
    referral_event_add(referral, kind="override_requested", actor=actor, note=reason)
    _approval_ask(referral, actor=actor, reason=reason)
    audit_record(action=actions.REFERRAL_OVERRIDE_REQUESTED, actor=actor, record=referral, reason="")
    return referral


def _approval_ask(referral: Referral, *, actor, reason: str) -> Approval:
    """The case's pending referral-plan approval, with this referral added (one per case at a time)."""
    approval = (
        Approval.objects.select_for_update()
        .filter(case=referral.case, kind=APPROVAL_KIND, status=ApprovalStatus.PENDING)
        .first()
    )
    if approval is None:
        staff = staff_of(actor) or referral.confirmed_by or referral.created_by
        if staff is None:
            raise ReferralError(_("An approval is asked by a person."))
        approval = Approval(case=referral.case, kind=APPROVAL_KIND, subject={"referrals": []}, requested_by=staff)
        approval.case = referral.case
        seal(approval, "request_reason", reason)
        approval.save(force_insert=True)
    ids = list(approval.subject.get("referrals", []))
    if str(referral.pk) not in ids:
        approval.subject = {"referrals": [*ids, str(referral.pk)]}
        approval.save(update_fields=["subject"])
    if referral.approval_id != approval.pk:
        referral.approval = approval
        referral.save(update_fields=["approval", "updated_at"])
    return approval


# --- the supervisor's decision --------------------------------------------------------------------


def _asked_within(approval: Approval, staff) -> bool:
    """Whether ``staff`` added a request of their own to this pending plan (it is one per case, so an
    override or a sensitive referral confirmed by someone else joins the first requester's approval)."""
    asked = ReferralEvent.objects.filter(
        referral_id__in=approval.subject.get("referrals", []), actor=staff, created_at__gte=approval.requested_at
    )
    return asked.filter(Q(kind="override_requested") | Q(kind="confirmation", referral__needs_approval=True)).exists()


@transaction.atomic
def referral_plan_decide(*, actor, approval: Approval, approve: bool, reason: str) -> list[Referral]:
    """A supervisor of the line approves or refuses a case's pending referral plan (overrides and sensitive
    referrals), with a reason; never the person who asked. Approved referrals that are confirmed are queued."""
    approval = Approval.objects.select_for_update().select_related("case__data_key", "requested_by").get(pk=approval.pk)
    if approval.kind != APPROVAL_KIND:
        raise ReferralError(_("This is not a referral plan approval."))
    if not supervises_case(actor, approval.case):
        raise PermissionDenied
    staff = staff_of(actor)
    if staff is not None and (staff.pk == approval.requested_by_id or _asked_within(approval, staff)):
        raise PermissionDenied(_("Nobody approves their own request."))
    if approval.status != ApprovalStatus.PENDING:
        raise ReferralError(_("This request was already decided."))
    reason = reason_clean(reason, required=True, what=_("Say why."))
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    approval.decided_by = staff
    approval.decided_at = timezone.now()
    seal(approval, "decision_reason", reason)
    approval.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    referrals = []
    for referral_id in approval.subject.get("referrals", []):
        referral = referral_lock(Referral(pk=referral_id))
        if referral.status not in (Status.PROPOSED, Status.APPROVED):
            continue
        if referral.consent_status == ConsentStatus.OVERRIDE_REQUESTED:
            referral.consent_status = ConsentStatus.OVERRIDDEN if approve else ConsentStatus.PENDING
            if approve:
                referral.consent_recorded_at = approval.decided_at
                referral.consent_recorded_by = staff
            referral.save(update_fields=["consent_status", "consent_recorded_at", "consent_recorded_by", "updated_at"])
            referral_event_add(
                referral,
                kind="override_approved" if approve else "override_refused",
                actor=actor,
                note=reason,
            )
        if approve and referral.needs_approval and referral.status == Status.PROPOSED:
            referral_move(referral, Status.APPROVED, actor=actor, note=reason)
        elif not approve:
            referral_event_add(referral, kind="approval_refused", actor=actor, note=reason)
        if approve:
            _queue_if_ready(referral, actor=actor)
        referrals.append(referral)
    audit_record(
        action=actions.REFERRAL_APPROVAL_DECIDED,
        actor=actor,
        record=approval,
        details={"approved": approve, "referrals": len(referrals)},
    )
    return referrals


# --- after delivery: the helpline's own steps (the agency's are referrals.services.agency_side) ------------


@transaction.atomic
def referral_requeue(*, actor, referral: Referral) -> Referral:
    """A supervisor of the line queues a failed referral again (a new delivery); ``actor`` None is the system."""
    referral = referral_lock(referral)
    if actor is not None and not supervises_case(actor, referral.case):
        raise PermissionDenied
    referral_move(referral, Status.QUEUED, actor=actor, detail=referral.agency.transport)
    delivery = Delivery.objects.create(referral=referral, transport=referral.agency.transport)
    outbox_enqueue(outbox_get(OUTBOX_NAME), delivery.pk)
    return referral


@transaction.atomic
def referral_withdraw(*, actor, referral: Referral, reason: str) -> Referral:
    """The helpline revokes a referral (with a reason). An agency that already has it is told (a notice
    with no content) and from then on sees it withdrawn, without what was shared (the reason stays the
    helpline's: it may name the child)."""
    referral = referral_lock(referral)
    case_access_require(actor, referral.case)
    reason = reason_clean(reason, required=True, what=_("Say why the referral is withdrawn."))
    referral_move(referral, Status.WITHDRAWN, actor=actor, note=reason)
    if referral.sent_at is not None:
        agency_notice_queue(referral=referral, kind=NoticeKind.WITHDRAWN)
    return referral
