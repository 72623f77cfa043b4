"""The one place case content is unsealed for a person, and every such read audited.

- ``case_read``: everything the case page shows (people, notes, flags, incident,
  status reasons, the linked contacts' summaries), audited as ``case.read``
  (or ``case.printed`` for the printable summary);
- ``case_shareable_content``: exactly the requested dotted fields, for building a
  referral document, audited with the list of fields and the purpose;
- ``wrapup_summary_read``: a wrap-up's summary for the pane that edits it.

The caller has found the case through ``cases_visible_to`` (or passes an actor,
which is checked here).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from cases import actions
from cases.models import (
    Case,
    CaseContact,
    CaseFlag,
    CaseIncident,
    CaseNote,
    CasePerson,
    CaseStatusChange,
    ContactWrapup,
    PersonRole,
)
from cases.selectors.access import case_is_visible
from helpline.audit.services import audit_record
from helpline.vault.services import unseal
from helpline.vault.values import Shredded


def _text(instance, field_name: str) -> str:
    value = unseal(instance, field_name)
    return "" if isinstance(value, Shredded) else value


@dataclass(frozen=True)
class CaseContent:
    case: Case
    destroyed: bool
    incident: dict  # {"summary", "urls": [...]}
    people: list[dict]  # {"person", "name", "phone", "location", "online_identifiers", "online_text", "details"}
    notes: list[dict]  # {"note", "body", "corrected_by": [note ids]}
    flags: list[dict]  # {"flag", "message"}
    status_changes: list[dict]  # {"change", "reason"}
    contacts: list[dict]  # {"link", "wrapup", "summary"}
    removed_people: list[dict] = ()  # {"person", "reason"}: people taken off the case


def case_read(*, user, case: Case, reason: str = "", request=None, printed: bool = False) -> CaseContent:
    if not case_is_visible(user, case):
        raise PermissionDenied
    case = Case.objects.select_related("data_key", "line", "counsellor__user", "taxonomy_version").get(pk=case.pk)
    destroyed = case.data_key.is_shredded
    incident_row = CaseIncident.objects.filter(case=case).first()
    if incident_row is not None:
        incident_row.case = case
    incident = {
        "summary": _text(incident_row, "summary") if incident_row else "",
        "urls": [line for line in _text(incident_row, "urls").splitlines() if line] if incident_row else [],
    }
    people, removed_people = [], []
    for person in CasePerson.objects.filter(case=case).select_related("added_by__user", "removed_by__user"):
        person.case = case
        if person.removed_at is not None:
            # Off the case: only the removal (who, when, why) is shown, on the timeline.
            removed_people.append({"person": person, "reason": _text(person, "removal_reason")})
            continue
        online = _text(person, "online_identifiers")
        people.append(
            {
                "person": person,
                **{name: _text(person, name) for name in ("name", "phone", "location", "details")},
                "online_identifiers": [line for line in online.splitlines() if line],
                "online_text": online,
            }
        )
    note_rows = list(CaseNote.objects.filter(case=case).select_related("author__user"))
    corrected_by: dict = {}
    for note in note_rows:
        if note.corrects_id:
            corrected_by.setdefault(note.corrects_id, []).append(note.pk)
    notes = []
    for note in note_rows:
        note.case = case
        notes.append({"note": note, "body": _text(note, "body"), "corrected_by": corrected_by.get(note.pk, [])})
    flags = []
    for flag in CaseFlag.objects.filter(case=case).select_related("raised_by__user", "removed_by__user"):
        flag.case = case
        flags.append({"flag": flag, "message": _text(flag, "message")})
    changes = []
    for change in CaseStatusChange.objects.filter(case=case).select_related("actor__user"):
        change.case = case
        changes.append({"change": change, "reason": _text(change, "reason")})
    contacts = []
    links = CaseContact.objects.filter(case=case).select_related(
        "wrapup__data_key", "wrapup__counsellor__user", "wrapup__recorded_by__user", "linked_by__user"
    )
    for link in links.order_by("wrapup__occurred_at"):
        contacts.append({"link": link, "wrapup": link.wrapup, "summary": _text(link.wrapup, "summary")})
    audit_record(
        action=actions.CASE_PRINTED if printed else actions.CASE_READ,
        actor=user,
        request=request,
        record=case,
        reason=reason,
    )
    return CaseContent(
        case=case,
        destroyed=destroyed,
        incident=incident,
        people=people,
        notes=notes,
        flags=flags,
        status_changes=changes,
        contacts=contacts,
        removed_people=removed_people,
    )


def wrapup_summary_read(*, user, wrapup: ContactWrapup, request=None) -> str:
    """The summary of a wrap-up the user may write (the caller found it through wrapups_writable_by)."""
    if wrapup.summary is None:
        return ""
    text = _text(wrapup, "summary")
    audit_record(action=actions.WRAPUP_READ, actor=user, request=request, record=wrapup)
    return text


# --- sharing with an agency ------------------------------------------------------------

CHILD_FIELDS = ("name", "phone", "location", "languages", "age_band", "age", "gender", "region")
INCIDENT_FIELDS = ("platform", "urls", "imagery_exists", "immediate_danger", "occurred_on", "summary")
PERSON_FIELDS = ("role", "relationship", "age_band", "name", "online_identifiers")
SHAREABLE_FIELDS = frozenset(
    {"child", "people", "perpetrator", "incident", "narrative"}
    | {f"child.{name}" for name in CHILD_FIELDS}
    | {f"incident.{name}" for name in INCIDENT_FIELDS}
    | {f"people.{name}" for name in ("name", "online_identifiers")}
)
SEALED_PERSON = {"name", "phone", "location", "online_identifiers"}


def _person_value(person: CasePerson, name: str):
    if name in SEALED_PERSON:
        text = _text(person, name)
        return [line for line in text.splitlines() if line] if name == "online_identifiers" else text
    return getattr(person, name)


def _present(value) -> bool:
    return value not in (None, "", [], {})


def case_shareable_content(case: Case, fields, *, actor, purpose: str) -> dict:
    """Unseal exactly ``fields`` (dotted: ``child.name``, ``incident.urls``, ``narrative``, ``people``, …).

    Returns the shape of the referral document's ``child``, ``people`` and ``incident``
    (plus ``narrative``), with keys absent when not asked for or empty. ``actor`` is the
    user building the document (checked against ``cases_visible_to``), or None for the
    system (a worker). The read is audited with the fields and ``purpose``.
    """
    fields = set(fields)
    unknown = fields - SHAREABLE_FIELDS
    if unknown:
        raise ValueError(f"Unknown shareable fields: {', '.join(sorted(unknown))}")
    if actor is not None and not case_is_visible(actor, case):
        raise PermissionDenied
    case = Case.objects.select_related("data_key").get(pk=case.pk)
    people = list(CasePerson.objects.filter(case=case, removed_at__isnull=True).order_by("added_at"))
    for person in people:
        person.case = case
    child = next((person for person in people if person.role == PersonRole.CHILD), None)
    content: dict = {}

    wanted_child = CHILD_FIELDS if "child" in fields else [n for n in CHILD_FIELDS if f"child.{n}" in fields]
    if child is not None and wanted_child:
        values = {name: _person_value(child, name) for name in wanted_child}
        content["child"] = {name: value for name, value in values.items() if _present(value)}

    others = [person for person in people if person.role != PersonRole.CHILD]
    if "perpetrator" in fields and "people" not in fields:
        others = [person for person in others if person.role == PersonRole.ALLEGED_PERPETRATOR]
    if fields & {"people", "perpetrator", "people.name", "people.online_identifiers"} and others:
        plain = ("role", "relationship", "age_band")
        sealed = [
            name for name in ("name", "online_identifiers") if fields & {"people", "perpetrator", f"people.{name}"}
        ]
        content["people"] = [
            {name: value for name in (*plain, *sealed) if _present(value := _person_value(person, name))}
            for person in others
        ]

    wanted_incident = (
        INCIDENT_FIELDS if "incident" in fields else [name for name in INCIDENT_FIELDS if f"incident.{name}" in fields]
    )
    incident_row = CaseIncident.objects.filter(case=case).first()
    if incident_row is not None:
        incident_row.case = case
    if wanted_incident:
        incident = {}
        for name in wanted_incident:
            if name == "summary":
                value = _text(incident_row, "summary") if incident_row else ""
            elif name == "urls":
                value = [line for line in _text(incident_row, "urls").splitlines() if line] if incident_row else []
            elif name == "occurred_on":
                value = case.occurred_on.isoformat() if case.occurred_on else None
            elif name == "platform":
                value = case.platform or None
            else:
                value = getattr(case, name)
            if _present(value):
                incident[name] = value
        content["incident"] = incident
    if "narrative" in fields and incident_row is not None:
        narrative = _text(incident_row, "summary")
        if narrative:
            content["narrative"] = narrative
    audit_record(
        action=actions.CASE_CONTENT_SHARED,
        actor=actor,
        record=case,
        reason=purpose,
        details={"fields": sorted(fields)},
    )
    return content
