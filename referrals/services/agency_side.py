"""The agency's side of a referral: acknowledge, accept, decline (with a reason), progress updates and
outcomes from the configurable list, and the questions the agency and the helpline ask each other.

The portal (referrals.views.authority) and the referral API both call these; each takes the
caller's agency explicitly and refuses, with PermissionDenied, a referral addressed to another
agency or not yet sent to it, and an authority user who does not belong to that agency
(defence in depth under the views' own lookups). ``actor`` is the authority user, or None
when the agency's system acts through the API; ``via`` ("portal" or "api:<key prefix>") goes
on the event and into the audit details. Notes, reasons, questions and answers are sealed
under the case's key; the audit trail holds codes only.

A *final* outcome (``OutcomeKind.final``) closes the referral, which the lifecycle allows from
accepted or declined only: on a referral merely sent or acknowledged it is refused with the
lifecycle's message (accept or decline it first). A non-final one is a progress event on a
referral that is sent, acknowledged or accepted.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpline.access import role_of
from helpline.audit.services import audit_record
from helpline.models import Role
from helpline.vault.services import seal
from referrals import actions
from referrals.lifecycle import AT_AGENCY, QUESTIONS_OPEN, STATUS_LABELS, Status, transitions_from
from referrals.models import Agency, NoticeKind, OutcomeKind, Referral, ReferralEvent, ReferralQuestion, Side
from referrals.selectors import agency_of
from referrals.services.events import (
    ReferralError,
    case_access_require,
    reason_clean,
    referral_event_add,
    referral_lock,
    referral_move,
    staff_of,
)
from referrals.services.notices import agency_notice_queue
from referrals.todo import agency_questions_changed

VIA_PORTAL = "portal"
MAX_QUESTION_LENGTH = 4000
# Where a progress update (not final) may be recorded.
UPDATABLE = {Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED}
# Event kinds of the questions, by the side that wrote them.
QUESTION_EVENTS = {Side.AGENCY: "question_from_agency", Side.HELPLINE: "question_from_helpline"}
ANSWER_EVENTS = {Side.AGENCY: "answer_from_agency", Side.HELPLINE: "answer_from_helpline"}


def via_clean(via: str) -> str:
    """ "portal" or "api:<key prefix>"; anything else is a programming error."""
    if via == VIA_PORTAL or (isinstance(via, str) and via.startswith("api:") and 4 < len(via) <= 40):
        return via
    raise ValueError(f"via must be 'portal' or 'api:<key prefix>', not {via!r}")


def agency_actor_require(*, agency: Agency, actor) -> None:
    """``actor`` (None: the agency's system) acts for ``agency``: an authority user who belongs to it."""
    if agency is None or not isinstance(agency, Agency):
        raise PermissionDenied(_("An agency acts only for itself."))
    if actor is None:
        return
    mine = agency_of(actor)
    if role_of(actor) != Role.AUTHORITY or mine is None or mine.pk != agency.pk:
        raise PermissionDenied(_("You do not work for this agency."))


def agency_referral_require(*, agency: Agency, actor, referral: Referral) -> None:
    """The referral was sent to ``agency`` and ``actor`` acts for it; PermissionDenied otherwise."""
    agency_actor_require(agency=agency, actor=actor)
    if referral.agency_id != agency.pk or referral.status not in AT_AGENCY or referral.sent_at is None:
        raise PermissionDenied(_("This referral was not sent to your agency."))


def _for_agency(*, agency, actor, referral: Referral, via: str) -> Referral:
    via_clean(via)
    # Refuse before taking the lock on a row that is not theirs, then check again on the locked row.
    agency_referral_require(agency=agency, actor=actor, referral=referral)
    locked = referral_lock(referral)
    agency_referral_require(agency=agency, actor=actor, referral=locked)
    return locked


def _agency_move(referral, to_status, *, actor, via, action, note="", details=None, **extra) -> ReferralEvent:
    return referral_move(
        referral,
        to_status,
        actor=actor,
        note=note,
        via=via,
        audit_action=action,
        audit_details={"via": via, **(details or {})},
        **extra,
    )


@transaction.atomic
def referral_acknowledge(*, agency: Agency, actor, referral: Referral, via: str = VIA_PORTAL) -> Referral:
    """The agency says it has the referral (sent → acknowledged)."""
    referral = _for_agency(agency=agency, actor=actor, referral=referral, via=via)
    _agency_move(referral, Status.ACKNOWLEDGED, actor=actor, via=via, action=actions.REFERRAL_ACKNOWLEDGED)
    return referral


@transaction.atomic
def referral_accept(*, agency: Agency, actor, referral: Referral, note: str = "", via: str = VIA_PORTAL) -> Referral:
    """The agency takes the referral on (from sent or acknowledged), with an optional note (sealed)."""
    referral = _for_agency(agency=agency, actor=actor, referral=referral, via=via)
    note = reason_clean(note, required=False, what="")
    _agency_move(referral, Status.ACCEPTED, actor=actor, via=via, note=note, action=actions.REFERRAL_ACCEPTED)
    return referral


@transaction.atomic
def referral_decline(*, agency: Agency, actor, referral: Referral, reason: str, via: str = VIA_PORTAL) -> Referral:
    """The agency declines the referral (from sent or acknowledged); the reason is required and sealed."""
    referral = _for_agency(agency=agency, actor=actor, referral=referral, via=via)
    reason = reason_clean(reason, required=True, what=_("Say why the referral is declined."))
    _agency_move(referral, Status.DECLINED, actor=actor, via=via, note=reason, action=actions.REFERRAL_DECLINED)
    return referral


def outcome_kinds_active():
    return OutcomeKind.objects.filter(active=True).order_by("order", "label")


def outcome_kinds_for(referral: Referral) -> list[OutcomeKind]:
    """The active entries ``referral_update_record`` would take on ``referral`` as it is now: progress
    updates while it is sent, acknowledged or accepted; final outcomes once accepted or declined."""
    final_allowed = Status.CLOSED in transitions_from(referral.status)
    return [
        kind
        for kind in outcome_kinds_active()
        if (kind.final and final_allowed) or (not kind.final and referral.status in UPDATABLE)
    ]


@transaction.atomic
def referral_update_record(
    *, agency: Agency, actor, referral: Referral, outcome: str, note: str = "", via: str = VIA_PORTAL
) -> ReferralEvent:
    """Record a progress update or an outcome (a code of the active list) with a note (sealed).

    A final outcome closes the referral (from accepted or declined; the lifecycle refuses it
    otherwise); any other is a progress event on a sent, acknowledged or accepted referral."""
    referral = _for_agency(agency=agency, actor=actor, referral=referral, via=via)
    # A code with a NUL byte is no code of the list (and PostgreSQL refuses it in a query).
    known = isinstance(outcome, str) and "\x00" not in outcome
    kind = outcome_kinds_active().filter(code=outcome).first() if known else None
    if kind is None:
        raise ReferralError(_("Choose an update or outcome from the list."))
    note = reason_clean(note, required=False, what="")
    details = {"outcome": kind.code}
    if kind.final:
        referral.outcome_kind = kind
        also = ["outcome_kind"]
        if note:
            seal(referral, "outcome", note)
            also.append("outcome")
        return _agency_move(
            referral,
            Status.CLOSED,
            actor=actor,
            via=via,
            note=note,
            action=actions.REFERRAL_OUTCOME_RECORDED,
            details=details,
            detail=kind.code,
            also=tuple(also),
            outcome=kind,
        )
    if referral.status not in UPDATABLE:
        raise ReferralError(
            _("A referral that is %(current)s takes no more progress updates.")
            % {"current": str(STATUS_LABELS[referral.status]).lower()}
        )
    referral.save(update_fields=["updated_at"])
    event = referral_event_add(referral, kind="update", actor=actor, detail=kind.code, note=note, via=via, outcome=kind)
    audit_record(
        action=actions.REFERRAL_UPDATE_RECORDED,
        actor=actor,
        record=referral,
        details={"agency": referral.agency.code, "via": via, **details},
    )
    return event


# --- questions, both ways ------------------------------------------------------------------------


def _side_of(*, agency, actor, referral: Referral) -> str:
    """Which side is asking or answering: the agency (``agency`` given) or the helpline (a person with the case)."""
    if agency is not None:
        agency_referral_require(agency=agency, actor=actor, referral=referral)
        return Side.AGENCY
    if actor is None or role_of(actor) not in (Role.COUNSELLOR, Role.SUPERVISOR):
        raise PermissionDenied(_("The helpline's questions and answers are written by a person with the case."))
    case_access_require(actor, referral.case)
    if referral.status not in AT_AGENCY or referral.sent_at is None:
        raise ReferralError(_("Questions are asked once the referral has reached the agency."))
    return Side.HELPLINE


# Why a referral takes no more questions or answers, by its status (QUESTIONS_OPEN says where it does).
QUESTIONS_SHUT = {
    Status.DECLINED: gettext_lazy("This referral was declined: no more questions can be asked or answered on it."),
    Status.CLOSED: gettext_lazy("This referral is closed: no more questions can be asked or answered on it."),
    Status.WITHDRAWN: gettext_lazy("This referral was withdrawn: no more questions can be asked or answered on it."),
}


def questions_open_require(referral: Referral) -> None:
    """A ReferralError, in plain words, when ``referral`` takes no more questions or answers."""
    if referral.status not in QUESTIONS_OPEN:
        raise ReferralError(
            str(QUESTIONS_SHUT.get(referral.status, _("This referral takes no questions or answers now.")))
        )


def _text_clean(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReferralError(what)
    if len(text) > MAX_QUESTION_LENGTH:
        raise ReferralError(_("The text is too long."))
    return text


def _question_audit(action, *, actor, question: ReferralQuestion, side: str, via: str) -> None:
    audit_record(
        action=action,
        actor=actor,
        record=question.referral,
        details={"agency": question.referral.agency.code, "side": side, "via": via, "question": str(question.pk)},
    )


@transaction.atomic
def referral_question_ask(
    *, agency: Agency | None = None, actor, referral: Referral, text: str, via: str = VIA_PORTAL
) -> ReferralQuestion:
    """The agency (``agency`` given) or the helpline (``agency`` None, ``actor`` a person with the case)
    asks the other side a question about a referral open to questions (``QUESTIONS_OPEN``: sent,
    acknowledged or accepted; a declined, closed or withdrawn one is refused with a ReferralError);
    the text is sealed under the case's key."""
    via_clean(via)
    if agency is not None:
        agency_referral_require(agency=agency, actor=actor, referral=referral)
    referral = referral_lock(referral)
    side = _side_of(agency=agency, actor=actor, referral=referral)
    via = via if side == Side.AGENCY else ""
    questions_open_require(referral)
    text = _text_clean(text, what=_("Write the question."))
    question = ReferralQuestion(referral=referral, asked_by_side=side, asked_by=staff_of(actor), asked_via=via)
    question.referral = referral
    seal(question, "text", text)
    question.save(force_insert=True)
    referral.save(update_fields=["updated_at"])
    referral_event_add(referral, kind=QUESTION_EVENTS[side], actor=actor, detail=side, via=via)
    _question_audit(actions.REFERRAL_QUESTION_ASKED, actor=actor, question=question, side=side, via=via)
    if side == Side.AGENCY:
        # It waits for the case's counsellor (or the line's supervisors): their console is told, with ids only.
        agency_questions_changed(referral)
    else:
        agency_notice_queue(referral=referral, kind=NoticeKind.QUESTION)
    return question


@transaction.atomic
def referral_question_answer(
    *, agency: Agency | None = None, actor, question: ReferralQuestion, text: str, via: str = VIA_PORTAL
) -> ReferralQuestion:
    """The other side answers a question, once, while the referral is still open to questions
    (``QUESTIONS_OPEN``: not once it is declined, closed or withdrawn); the side that asked never
    answers its own question."""
    via_clean(via)
    if agency is not None:
        agency_referral_require(agency=agency, actor=actor, referral=question.referral)
    referral = referral_lock(question.referral)
    side = _side_of(agency=agency, actor=actor, referral=referral)
    question = ReferralQuestion.objects.select_for_update().get(pk=question.pk, referral=referral)
    question.referral = referral
    if question.asked_by_side == side:
        raise PermissionDenied(_("A question is answered by the other side, not by the side that asked it."))
    questions_open_require(referral)
    if question.answered_at is not None:
        raise ReferralError(_("This question was already answered."))
    via = via if side == Side.AGENCY else ""
    text = _text_clean(text, what=_("Write the answer."))
    seal(question, "answer", text)
    question.answered_by = staff_of(actor)
    question.answered_via = via
    question.answered_at = timezone.now()
    question.save(update_fields=["answer", "answered_by", "answered_via", "answered_at"])
    referral.save(update_fields=["updated_at"])
    referral_event_add(referral, kind=ANSWER_EVENTS[side], actor=actor, detail=side, via=via)
    _question_audit(actions.REFERRAL_QUESTION_ANSWERED, actor=actor, question=question, side=side, via=via)
    if side == Side.HELPLINE:
        agency_questions_changed(referral)  # it leaves the lists it was on
        agency_notice_queue(referral=referral, kind=NoticeKind.ANSWER)
    return question


# --- the list of outcomes, for administrators ---------------------------------------------------


@transaction.atomic
def outcome_kind_save(
    *, actor, kind: OutcomeKind | None = None, code: str, label: str, final: bool, active: bool = True, order: int = 100
) -> OutcomeKind:
    """Add an entry to the outcome and progress-update list, or change one (its code stays)."""
    label = (label or "").strip()
    if not label:
        raise ReferralError(_("Give the entry a label."))
    if kind is None:
        if OutcomeKind.objects.filter(code=code).exists():
            raise ReferralError(_("An entry with this code exists already."))
        kind = OutcomeKind.objects.create(code=code, label=label, final=final, active=active, order=order)
        changed = ["code", "label", "final", "active", "order"]
    else:
        kind = OutcomeKind.objects.select_for_update().get(pk=kind.pk)
        values = {"label": label, "final": final, "active": active, "order": order}
        changed = [name for name, value in values.items() if getattr(kind, name) != value]
        for name in changed:
            setattr(kind, name, values[name])
        if changed:
            kind.save(update_fields=changed)
    audit_record(
        action=actions.OUTCOME_KIND_SAVED, actor=actor, record=kind, details={"code": kind.code, "changed": changed}
    )
    return kind
