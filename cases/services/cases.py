"""Opening cases, linking contacts, the status machine, and the facts the SOP engine reads.

The status machine (``TRANSITIONS``) is enforced by ``case_status_set``, the one
writer of a case's status; it checks no permission, so other services of this app
(closure with approval: ``cases.services.approvals``) call it after their own checks.
People call ``case_status_change``, which refuses the steps that need an approval.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import actions
from cases.errors import CaseError
from cases.models import (
    Case,
    CaseContact,
    CaseIncident,
    CaseStatus,
    CaseStatusChange,
    ContactWrapup,
    RiskLevel,
    WrapupStatus,
)
from cases.models.choices import NON_DATA_CALL_TYPES, RISK_RANK
from cases.selectors.access import cases_visible_to, wrapups_writable_by
from cases.selectors.repeats import repeat_cases_offered
from cases.selectors.taxonomy import category_codes
from cases.signals import case_facts_announce
from helpline.audit.services import audit_record
from helpline.models import Staff
from helpline.vault.services import datakey_create, seal

TRANSITIONS = {
    CaseStatus.OPEN: {CaseStatus.IN_PROGRESS, CaseStatus.PENDING_CLOSURE},
    CaseStatus.IN_PROGRESS: {CaseStatus.PENDING_CLOSURE},
    CaseStatus.PENDING_CLOSURE: {CaseStatus.IN_PROGRESS, CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.REOPENED},
    CaseStatus.REOPENED: {CaseStatus.IN_PROGRESS, CaseStatus.PENDING_CLOSURE},
}
# Steps a person takes directly; asking for closure and closing go through approvals.
DIRECT_STEPS = {CaseStatus.IN_PROGRESS, CaseStatus.REOPENED}
MAX_REASON_LENGTH = 2000
MAX_URLS = 50


def case_for_write(actor: Staff, case: Case) -> Case:
    """The case locked for update, if the actor may work on it; PermissionDenied otherwise."""
    locked = (
        cases_visible_to(actor.user)
        .select_for_update(of=("self",))
        .select_related("data_key", "line")
        .filter(pk=case.pk)
        .first()
    )
    if locked is None:
        raise PermissionDenied
    if locked.shredded_at is not None or locked.data_key.is_shredded:
        raise CaseError(_("This case's content was destroyed at the end of its retention period."))
    return locked


def _wrapup_for_write(actor: Staff, wrapup: ContactWrapup) -> ContactWrapup:
    locked = wrapups_writable_by(actor.user).select_for_update(of=("self",)).filter(pk=wrapup.pk).first()
    if locked is None:
        raise PermissionDenied
    if locked.call_type in NON_DATA_CALL_TYPES:
        raise CaseError(_("Only a data contact can be linked to a case."))
    return locked


def _higher_risk(first: str, second: str) -> str:
    first, second = first or RiskLevel.NONE, second or RiskLevel.NONE
    return first if RISK_RANK[first] >= RISK_RANK[second] else second


def _merge_into(case: Case, wrapup: ContactWrapup) -> bool:
    """Add the wrap-up's codes and risk to the case; True if the case's facts changed."""
    before = (list(case.categories), case.risk_level, case.taxonomy_version_id)
    # Codes are stable across versions (a new version never renames one), so a union stays meaningful.
    case.categories = [*case.categories, *(code for code in wrapup.categories if code not in case.categories)]
    if case.taxonomy_version_id is None:
        case.taxonomy_version_id = wrapup.taxonomy_version_id
    case.risk_level = _higher_risk(case.risk_level, wrapup.risk_level)
    return before != (case.categories, case.risk_level, case.taxonomy_version_id)


def _status_record(*, case: Case, from_status: str, to_status: str, actor: Staff | None, reason: str) -> None:
    change = CaseStatusChange(case=case, from_status=from_status, to_status=to_status, actor=actor)
    if reason:
        seal(change, "reason", reason)
    change.save(force_insert=True)


@transaction.atomic
def case_open(*, actor: Staff, wrapup: ContactWrapup) -> Case:
    """Open a new case from a contact's wrap-up (draft or finished); the contact is its first link."""
    wrapup = _wrapup_for_write(actor, wrapup)
    if wrapup.case_id is not None:
        raise CaseError(_("This contact is already linked to a case."))
    case = Case(
        line_id=wrapup.line_id,
        counsellor=wrapup.counsellor,
        created_by=actor,
        data_key=datakey_create(),
        taxonomy_version_id=wrapup.taxonomy_version_id,
        categories=list(wrapup.categories),
        risk_level=wrapup.risk_level or RiskLevel.NONE,
    )
    case.save(force_insert=True)
    CaseIncident.objects.create(case=case)
    _status_record(case=case, from_status="", to_status=CaseStatus.OPEN, actor=actor, reason="")
    CaseContact.objects.create(case=case, wrapup=wrapup, linked_by=actor)
    wrapup.case = case
    wrapup.save(update_fields=["case", "updated_at"])
    audit_record(
        action=actions.CASE_OPENED,
        actor=actor.user,
        record=case,
        details={"reference": case.reference, "wrapup": str(wrapup.pk)},
    )
    case_facts_announce(case_id=case.pk, actor_id=actor.pk)
    return case


def cases_linkable_for(actor: Staff, wrapup: ContactWrapup):
    """Cases this wrap-up may join: those the actor sees, and the repeat cases the rule allows.

    The repeat path (cases.selectors.repeats) needs a contact the actor holds whose sender's
    blind index matches a contact already on the case, on the same line, the case live.
    """
    visible = Case.objects.filter(pk__in=cases_visible_to(actor.user).values("pk"))
    repeats = repeat_cases_offered(staff=actor, wrapup=wrapup).values("pk")
    return visible | Case.objects.filter(pk__in=repeats)


@transaction.atomic
def case_contact_link(*, actor: Staff, case: Case, wrapup: ContactWrapup) -> CaseContact:
    """Link a contact to an existing case (one the actor sees, or a repeat sender's earlier case)."""
    wrapup = _wrapup_for_write(actor, wrapup)
    if not cases_linkable_for(actor, wrapup).filter(pk=case.pk).exists():
        raise PermissionDenied
    case = Case.objects.select_for_update().select_related("data_key").get(pk=case.pk)
    if case.status == CaseStatus.CLOSED or case.shredded_at is not None:
        raise CaseError(_("This case is closed: reopen it before linking a new contact."))
    if CaseContact.objects.filter(case=case, wrapup=wrapup).exists():
        raise CaseError(_("This contact is already linked to that case."))
    via_repeat = not cases_visible_to(actor.user).filter(pk=case.pk).exists()
    link = CaseContact.objects.create(case=case, wrapup=wrapup, linked_by=actor, via_repeat=via_repeat)
    if wrapup.case_id is None:
        wrapup.case = case
        wrapup.save(update_fields=["case", "updated_at"])
    changed = wrapup.status == WrapupStatus.FINAL and _merge_into(case, wrapup)
    if changed:
        case.save(update_fields=["categories", "risk_level", "taxonomy_version", "updated_at"])
    audit_record(
        action=actions.CASE_CONTACT_LINKED,
        actor=actor.user,
        record=case,
        details={"wrapup": str(wrapup.pk), "channel": wrapup.channel},
    )
    if via_repeat:
        audit_record(
            action=actions.CASE_ACCESS_VIA_REPEAT,
            actor=actor.user,
            record=case,
            details={"wrapup": str(wrapup.pk), "channel": wrapup.channel, "counsellor": case.counsellor_id},
        )
    if changed:
        case_facts_announce(case_id=case.pk, actor_id=actor.pk)
    return link


def case_classification_merge(*, actor: Staff, case: Case, wrapup: ContactWrapup) -> Case:
    """A finished wrap-up's codes and risk join its case (called inside wrapup_finalise's transaction)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if _merge_into(case, wrapup):
        case.save(update_fields=["categories", "risk_level", "taxonomy_version", "updated_at"])
        audit_record(
            action=actions.CASE_FACTS_UPDATED,
            actor=actor.user,
            record=case,
            details={"fields": ["categories", "risk_level"], "from_wrapup": str(wrapup.pk)},
        )
        case_facts_announce(case_id=case.pk, actor_id=actor.pk)
    return case


@transaction.atomic
def case_status_set(*, actor: Staff | None, case: Case, to_status: str, reason: str = "") -> Case:
    """Move a case along the status machine, recording who and why. No permission check: callers do it."""
    case = Case.objects.select_for_update().select_related("data_key").get(pk=case.pk)
    if to_status not in TRANSITIONS.get(case.status, set()):
        raise CaseError(
            _("A case cannot go from %(from)s to %(to)s.")
            % {
                "from": CaseStatus(case.status).label,
                "to": CaseStatus(to_status).label if to_status in CaseStatus.values else to_status,
            }
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise CaseError(_("The reason is too long."))
    from_status = case.status
    _status_record(case=case, from_status=from_status, to_status=to_status, actor=actor, reason=reason)
    case.status = to_status
    if to_status == CaseStatus.CLOSED:
        case.closed_at = timezone.now()
    elif from_status == CaseStatus.CLOSED:
        case.closed_at = None
    case.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        action=actions.CASE_STATUS_CHANGED,
        actor=actor.user if actor else None,
        record=case,
        details={"from": from_status, "to": to_status},
    )
    return case


@transaction.atomic
def case_status_change(*, actor: Staff, case: Case, to_status: str, reason: str = "") -> Case:
    """A person's own step: start work on a case, or reopen a closed one (with a reason)."""
    case = case_for_write(actor, case)
    if to_status not in DIRECT_STEPS:
        raise CaseError(_("Closing a case goes through a request and a supervisor's approval."))
    if to_status == CaseStatus.REOPENED and not reason.strip():
        raise CaseError(_("Say why the case is reopened."))
    return case_status_set(actor=actor, case=case, to_status=to_status, reason=reason.strip())


UNSET = object()
INCIDENT_FLAGS = ("urls_reported", "imagery_exists", "immediate_danger")


@transaction.atomic
def case_facts_update(
    *,
    actor: Staff,
    case: Case,
    risk_level=UNSET,
    categories=UNSET,
    platform=UNSET,
    urls_reported=UNSET,
    imagery_exists=UNSET,
    immediate_danger=UNSET,
    occurred_on=UNSET,
    summary=UNSET,
    urls=UNSET,
) -> Case:
    """Change a case's classification, risk or incident facts; only the arguments given change.

    ``summary`` (what happened) and ``urls`` (a list of links) are sealed under the case's key.
    """
    case = case_for_write(actor, case)
    changed = []
    if risk_level is not UNSET:
        if risk_level not in RiskLevel.values:
            raise CaseError(_("Risk level is not one of the choices."))
        if risk_level != case.risk_level:
            case.risk_level, changed = risk_level, [*changed, "risk_level"]
    if categories is not UNSET:
        known = category_codes(case.taxonomy_version)
        chosen = list(dict.fromkeys(categories))
        if any(code not in known for code in chosen):
            raise CaseError(_("Category is not one of the choices."))
        if chosen != case.categories:
            case.categories, changed = chosen, [*changed, "categories"]
    if platform is not UNSET:
        platform = (platform or "").strip().lower()[:40]
        if platform != case.platform:
            case.platform, changed = platform, [*changed, "platform"]
    for name, value in zip(INCIDENT_FLAGS, (urls_reported, imagery_exists, immediate_danger), strict=True):
        if value is not UNSET and bool(value) != getattr(case, name):
            setattr(case, name, bool(value))
            changed.append(name)
    if occurred_on is not UNSET:
        if occurred_on is not None and occurred_on > timezone.localdate():
            raise CaseError(_("The incident date cannot be in the future."))
        if occurred_on != case.occurred_on:
            case.occurred_on, changed = occurred_on, [*changed, "occurred_on"]
    sealed = []
    if summary is not UNSET or urls is not UNSET:
        incident, _created = CaseIncident.objects.select_for_update().get_or_create(case=case)
        incident.case = case
        if summary is not UNSET:
            if len(summary) > 10_000:
                raise CaseError(_("The summary is too long."))
            seal(incident, "summary", summary)
            sealed.append("summary")
        if urls is not UNSET:
            links = [link.strip() for link in urls if link.strip()]
            if len(links) > MAX_URLS or any(len(link) > 2000 for link in links):
                raise CaseError(_("Too many or too long URLs."))
            seal(incident, "urls", "\n".join(links))
            sealed.append("urls")
            if bool(links) != case.urls_reported and urls_reported is UNSET:
                case.urls_reported = bool(links)
                changed.append("urls_reported")
        incident.save()
    if not changed and not sealed:
        return case
    case.save()
    audit_record(action=actions.CASE_FACTS_UPDATED, actor=actor.user, record=case, details={"fields": changed + sealed})
    if changed:
        case_facts_announce(case_id=case.pk, actor_id=actor.pk)
    return case
