"""The one way a referral changes: a move through the transition table, its event, its audit record.

Shared by the lifecycle's services (referrals.services.referrals) and the delivery outbox
(referrals.outbox); neither writes a status any other way.
"""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case
from cases.selectors import case_is_visible
from helpline.audit.services import audit_record_many
from helpline.bulk import rows_update, values_insert, values_update
from helpline.models import Staff
from helpline.vault.services import seal
from referrals import actions
from referrals.lifecycle import NEEDS_REASON, QUESTIONS_OPEN, Status, TransitionRefused, transition_event
from referrals.models import Referral, ReferralEvent
from referrals.todo import agency_questions_changed, agency_questions_open_on

MAX_REASON_LENGTH = 2000

# The name the referral outbox registers under (referrals.outbox).
OUTBOX_NAME = "referral"


class ReferralError(ValidationError):
    """A request the lifecycle refuses, in plain words for the person who asked."""


def staff_of(user) -> Staff | None:
    return getattr(user, "staff", None) if user is not None else None


def case_access_require(actor, case: Case) -> None:
    if actor is not None and not case_is_visible(actor, case):
        raise PermissionDenied


def reason_clean(text: str, *, required: bool, what: str) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ReferralError(what)
    if len(text) > MAX_REASON_LENGTH:
        raise ReferralError(_("The reason is too long."))
    return text


def referral_lock(referral: Referral) -> Referral:
    """The referral again, its row locked for the rest of the transaction (with its case's key and agency)."""
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case__data_key", "case__line", "agency")
        .get(pk=referral.pk)
    )


def referral_event_add(
    referral: Referral, *, kind: str, actor, from_status="", to_status="", detail="", note="", via="", outcome=None
) -> ReferralEvent:
    event = _event(referral, kind, actor, from_status, to_status, detail, note, via, outcome)
    event.save(force_insert=True)
    return event


def _event(referral, kind, actor, from_status, to_status, detail, note, via, outcome) -> ReferralEvent:
    event = ReferralEvent(
        referral=referral,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=staff_of(actor),
        detail=detail[:255],
        via=via[:40],
        outcome=outcome,
    )
    event.referral = referral
    if note:
        seal(event, "note", note)
    return event


def referral_move(referral: Referral, to_status: str, **options) -> ReferralEvent:
    """Change the status through the transition table; an impossible move is a ReferralError.

    Options (keyword): ``actor`` (required), ``note``, ``detail``; ``also`` names other fields the
    caller changed, saved in the same UPDATE; ``audit_action`` and ``audit_details`` let a move be
    audited under its own name (a delivery: ``referral.sent``); ``via`` and ``outcome`` go on the
    event (the agency's steps)."""
    return referral_moves([(referral, to_status, options)])[0]


def referral_moves(moves: list[tuple[Referral, str, dict]]) -> list[ReferralEvent]:
    """Several referrals moved at once (a batch of deliveries), each ``(referral, to_status, referral_move's
    options)``, rows locked by the caller: each move checked, its event and its audit record, written as
    one UPDATE, one INSERT of events and one of audit rows whatever their number."""
    if not moves:
        return []
    fields: dict[str, None] = {}
    events, audits = [], []
    for referral, to_status, options in moves:
        changed, event, audit = _move(referral, to_status, **options)
        fields.update(dict.fromkeys(changed))
        events.append(event)
        audits.append(audit)
    # Every field any move changed: the others' values are what was read under the lock. A referral
    # moved twice (sent, then acknowledged) is one row with its last state.
    referrals = list({referral.pk: referral for referral, _, _ in moves}.values())
    rows_update(referrals, list(fields))
    ReferralEvent.objects.bulk_create(events)
    audit_record_many(audits)
    for event in events:
        if event.from_status in QUESTIONS_OPEN and event.to_status not in QUESTIONS_OPEN:
            _questions_closed(event.referral)
    return events


def _move(
    referral: Referral,
    to_status: str,
    *,
    actor,
    note: str = "",
    detail: str = "",
    also: tuple[str, ...] = (),
    audit_action: str = actions.REFERRAL_STATUS_CHANGED,
    audit_details: dict | None = None,
    via: str = "",
    outcome=None,
) -> tuple[list[str], ReferralEvent, dict]:
    """The move applied to the instance: the fields changed, its event and its audit record, not yet written."""
    try:
        kind = transition_event(referral.status, to_status)
    except TransitionRefused as refused:
        raise ReferralError(str(refused)) from None
    if to_status in NEEDS_REASON and not note.strip():
        raise ReferralError(_("Say why."))
    from_status = referral.status
    values = _moved_values(to_status, timezone.now())
    for name, value in values.items():
        setattr(referral, name, value)
    event = _event(referral, kind, actor, from_status, to_status, detail, note, via, outcome)
    audit = _audit(referral, actor, from_status, to_status, referral.agency.code, audit_action, audit_details)
    return [*values, *also], event, audit


def _moved_values(to_status: str, now) -> dict:
    """The columns a move to ``to_status`` writes (status, updated_at, the state's own timestamp)."""
    # updated_at set here, not left to auto_now: a bulk UPDATE does not run the field's pre_save.
    values = {"status": to_status, "updated_at": now}
    stamps = {Status.QUEUED: "queued_at", Status.SENT: "sent_at", Status.ACKNOWLEDGED: "acknowledged_at"}
    if to_status in stamps:
        values[stamps[to_status]] = now
    if to_status in (Status.CLOSED, Status.WITHDRAWN, Status.DISMISSED):
        values["closed_at"] = now
    return values


def _audit(record, actor, from_status, to_status, agency_code, action, details) -> dict:
    return {
        "action": action,
        "actor": actor,
        "record": record,
        "details": {"from": from_status, "to": to_status, "agency": agency_code, **(details or {})},
    }


def referrals_move_locked(moves: list[tuple[str, str, dict]], *, skip_refused: bool = False) -> set[str]:
    """``referral_moves`` by referral id, set-based, for the system's own steps (a batch of deliveries).

    Each ``(referral id, to_status, options)``; the options are ``referral_move``'s but ``note``
    (nothing to seal here) and ``also``: ``values`` is a dict of other columns to write. The referrals are
    locked here, in id order, and read as plain rows (status, agency); each move checked through
    the transition table in the order given (a referral moved twice: sent, then acknowledged).
    A refused move is a ReferralError, or with ``skip_refused`` leaves that referral as it is
    (withdrawn while its delivery was in flight); the ids of the referrals moved. Written as one
    UPDATE per shape of change, one INSERT of events and one of audit rows."""
    if not moves:
        return set()
    states = {
        str(pk): [status, code]
        for pk, status, code in Referral.objects.select_for_update(of=("self",))
        .filter(pk__in={referral_id for referral_id, _, _ in moves})
        .order_by("pk")
        .values_list("pk", "status", "agency__code")
    }
    now = timezone.now()
    changes: dict[str, dict] = {}
    events, audits, refused = [], [], set()
    for referral_id, to_status, options in moves:
        referral_id = str(referral_id)
        if referral_id in refused:
            continue
        from_status, agency_code = states[referral_id]
        try:
            kind = transition_event(from_status, to_status)
        except TransitionRefused as error:
            if not skip_refused:
                raise ReferralError(str(error)) from None
            refused.add(referral_id)
            changes.pop(referral_id, None)
            continue
        if to_status in NEEDS_REASON:
            raise ReferralError(_("Say why."))
        states[referral_id][0] = to_status
        changes.setdefault(referral_id, {}).update(_moved_values(to_status, now), **options.get("values", {}))
        events.append(
            {
                "id": uuid.uuid4(),
                "referral_id": referral_id,
                "kind": kind,
                "from_status": from_status,
                "to_status": to_status,
                "actor_id": getattr(staff_of(options["actor"]), "pk", None),
                "detail": options.get("detail", "")[:255],
                "via": options.get("via", "")[:40],
                "outcome_id": getattr(options.get("outcome"), "pk", None),
                "created_at": now,
            }
        )
        audits.append(
            _audit(
                (Referral, referral_id),
                options["actor"],
                from_status,
                to_status,
                agency_code,
                options.get("audit_action", actions.REFERRAL_STATUS_CHANGED),
                options.get("audit_details"),
            )
        )
    events = [event for event in events if event["referral_id"] not in refused]
    audits = [audit for audit in audits if audit["record"][1] not in refused]
    shapes: dict[tuple[str, ...], list[tuple]] = {}
    for referral_id, values in changes.items():
        shapes.setdefault(tuple(values), []).append((referral_id, *values.values()))
    for fields, rows in shapes.items():
        values_update(Referral, list(fields), rows)
    values_insert(ReferralEvent, events)
    audit_record_many(audits)
    for event in events:
        if event["from_status"] in QUESTIONS_OPEN and event["to_status"] not in QUESTIONS_OPEN:
            _questions_closed(Referral.objects.get(pk=event["referral_id"]))
    return set(changes)


def _questions_closed(referral: Referral) -> None:
    if agency_questions_open_on(referral):
        # Its open questions can no longer be answered: they leave the consoles' lists.
        agency_questions_changed(referral)
