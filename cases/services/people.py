"""People involved in a case: structured facts plain, identifying fields sealed under the case's key.

- ``case_person_add`` / ``case_person_update``: anyone who may work on the case (``case_for_write``).
  An update re-seals every identifying field it is given under the case's key (an empty value
  clears it) and records who changed the person and when;
- ``case_person_remove``: the case's counsellor, whoever added the person, or a supervisor of the
  case's line, with a reason. A **soft removal**: the person leaves the case page, the facts the
  SOP reads and what can be shared, the removal (who, when, the sealed reason) stays on the
  timeline, and the sealed fields stay until the case's retention destroys its key. Not a
  crypto-shred: every field of a case is sealed under the one case key, so erasing one person
  alone would destroy nothing a backup does not still hold; and a removal must stay reviewable
  (an alleged perpetrator taken off a case is a safeguarding decision a supervisor checks).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import actions
from cases.errors import CaseError
from cases.models import AgeBand, CasePerson, Gender, PersonRole, Relationship
from cases.selectors.access import supervises_case
from cases.selectors.taxonomy import line_regions
from cases.services.cases import case_for_write
from cases.services.wrapups import MAX_AGE, age_band_for
from cases.signals import case_facts_announce
from helpline.audit.services import audit_record
from helpline.vault.services import seal

SEALED_FIELDS = ("name", "phone", "location", "online_identifiers", "details")
FACT_FIELDS = ("role", "relationship", "age_band", "age", "gender", "region", "is_caregiver", "languages")
MAX_FIELD_LENGTH = 2000
MAX_REASON_LENGTH = 2000


# What a person is given as: the facts (plain) and the identifying fields (sealed), with defaults.
PERSON_DEFAULTS = {
    "relationship": "",
    "age_band": "",
    "age": None,
    "gender": "",
    "region": "",
    "is_caregiver": False,
    "languages": None,
    **dict.fromkeys(SEALED_FIELDS, ""),
}


def _prepared(case, fields: dict, *, languages_before=None) -> tuple[dict, dict]:
    """The person's structured facts, validated and normalised, and their identifying texts.

    ``fields`` are keyword arguments of ``case_person_add``/``case_person_update``: ``role``
    and any of ``PERSON_DEFAULTS``. CaseError on a bad value, TypeError on an unknown name.
    """
    unknown = set(fields) - {"role", *PERSON_DEFAULTS}
    if unknown:
        raise TypeError(f"Unknown person fields: {', '.join(sorted(unknown))}")
    values = {**PERSON_DEFAULTS, **fields}
    role, age_band, age, region = values.get("role"), values["age_band"], values["age"], values["region"]
    if role not in PersonRole.values:
        raise CaseError(_("Choose the person's role."))
    if values["relationship"] and values["relationship"] not in Relationship.values:
        raise CaseError(_("Relationship is not one of the choices."))
    if age_band and age_band not in AgeBand.values:
        raise CaseError(_("Age band is not one of the choices."))
    if values["gender"] and values["gender"] not in Gender.values:
        raise CaseError(_("Gender is not one of the choices."))
    if region and region not in {item.get("code") for item in line_regions(case.line)}:
        raise CaseError(_("Region is not one of this line's regions."))
    if age is not None:
        if not 0 <= age <= MAX_AGE:
            raise CaseError(_("Age must be a whole number of years."))
        band = age_band_for(age)
        if age_band and age_band not in (band, AgeBand.UNKNOWN):
            raise CaseError(_("The age does not fall in the age band."))
        age_band = band
    texts = {name: values[name] for name in SEALED_FIELDS}
    if any(len(value or "") > MAX_FIELD_LENGTH for value in texts.values()):
        raise CaseError(_("A field is too long."))
    languages = values["languages"] if values["languages"] is not None else (languages_before or [])
    facts = {
        "role": role,
        "relationship": values["relationship"] or ("self" if role == PersonRole.CHILD else ""),
        "age_band": age_band,
        "age": age,
        "gender": values["gender"],
        "region": region,
        "is_caregiver": bool(values["is_caregiver"]) or role == PersonRole.CAREGIVER,
        "languages": [code for code in languages if isinstance(code, str)][:10],
    }
    return facts, texts


def _seal_texts(person: CasePerson, texts: dict) -> None:
    """Seal each identifying field under the case's key; an empty value clears the field."""
    for field_name in SEALED_FIELDS:
        value = (texts[field_name] or "").strip()
        if value:
            seal(person, field_name, value)
        else:
            setattr(person, CasePerson._meta.get_field(field_name).attname, None)


@transaction.atomic
def case_person_add(*, actor, case, **fields) -> CasePerson:
    """Add someone to the case: ``role`` and any of ``PERSON_DEFAULTS`` (facts, and texts to seal)."""
    case = case_for_write(actor, case)
    facts, texts = _prepared(case, fields)
    person = CasePerson(case=case, added_by=actor, **facts)
    _seal_texts(person, texts)
    person.save(force_insert=True)
    case.save(update_fields=["updated_at"])
    audit_record(
        action=actions.CASE_PERSON_ADDED,
        actor=actor.user,
        record=case,
        details={"person": str(person.pk), "role": person.role},
    )
    case_facts_announce(case_id=case.pk, actor_id=actor.pk)
    return person


def _person_for_write(actor, person: CasePerson):
    """The case locked for writing (the actor may work on it) and the person, still on the case."""
    case = case_for_write(actor, person.case)
    locked = CasePerson.objects.select_for_update().filter(pk=person.pk, case=case).first()
    if locked is None:
        raise PermissionDenied
    if locked.removed_at is not None:
        raise CaseError(_("This person was removed from the case."))
    locked.case = case
    return case, locked


@transaction.atomic
def case_person_update(*, actor, person: CasePerson, **fields) -> CasePerson:
    """Replace a person's facts and identifying fields (the whole form, as the page posts it).

    The same fields as ``case_person_add``; one not given takes its default (an identifying
    field left out is cleared), except ``languages``, kept when not given (the page's form
    does not show them).
    """
    case, person = _person_for_write(actor, person)
    facts, texts = _prepared(case, fields, languages_before=person.languages)
    changed = [name for name, value in facts.items() if getattr(person, name) != value]
    for field_name, value in facts.items():
        setattr(person, field_name, value)
    _seal_texts(person, texts)
    person.updated_by = actor
    person.updated_at = timezone.now()
    person.save()
    case.save(update_fields=["updated_at"])
    audit_record(
        action=actions.CASE_PERSON_UPDATED,
        actor=actor.user,
        record=case,
        # Names of the plain facts that changed; the sealed fields are re-sealed whatever they hold.
        details={"person": str(person.pk), "role": person.role, "facts": changed},
    )
    if changed:
        case_facts_announce(case_id=case.pk, actor_id=actor.pk)
    return person


def person_removable_by(staff, case, person: CasePerson, *, supervises: bool | None = None) -> bool:
    """The case's counsellor, whoever added the person, or a supervisor of the case's line.

    ``supervises`` is ``supervises_case(staff.user, case)`` when the caller already knows it.
    """
    if staff.pk in (case.counsellor_id, person.added_by_id):
        return True
    return supervises_case(staff.user, case) if supervises is None else supervises


@transaction.atomic
def case_person_remove(*, actor, person: CasePerson, reason: str) -> CasePerson:
    """Take a person off the case, with a reason (sealed); recorded on the timeline, audited."""
    case, person = _person_for_write(actor, person)
    if not person_removable_by(actor, case, person):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise CaseError(_("Say why the person is removed."))
    if len(reason) > MAX_REASON_LENGTH:
        raise CaseError(_("The reason is too long."))
    person.removed_by = actor
    person.removed_at = timezone.now()
    seal(person, "removal_reason", reason)
    person.save(update_fields=["removed_by", "removed_at", "removal_reason"])
    case.save(update_fields=["updated_at"])
    audit_record(
        action=actions.CASE_PERSON_REMOVED,
        actor=actor.user,
        record=case,
        details={"person": str(person.pk), "role": person.role},
    )
    case_facts_announce(case_id=case.pk, actor_id=actor.pk)
    return person
