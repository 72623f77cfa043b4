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


def _facts(*, case, role, relationship, age_band, age, gender, region, is_caregiver, languages, texts: dict) -> dict:
    """The person's structured facts, validated and normalised; CaseError on a bad value."""
    if role not in PersonRole.values:
        raise CaseError(_("Choose the person's role."))
    if relationship and relationship not in Relationship.values:
        raise CaseError(_("Relationship is not one of the choices."))
    if age_band and age_band not in AgeBand.values:
        raise CaseError(_("Age band is not one of the choices."))
    if gender and gender not in Gender.values:
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
    if any(len(value or "") > MAX_FIELD_LENGTH for value in texts.values()):
        raise CaseError(_("A field is too long."))
    return {
        "role": role,
        "relationship": relationship or ("self" if role == PersonRole.CHILD else ""),
        "age_band": age_band,
        "age": age,
        "gender": gender,
        "region": region,
        "is_caregiver": bool(is_caregiver) or role == PersonRole.CAREGIVER,
        "languages": [code for code in (languages or []) if isinstance(code, str)][:10],
    }


def _seal_texts(person: CasePerson, texts: dict) -> None:
    """Seal each identifying field under the case's key; an empty value clears the field."""
    for field_name in SEALED_FIELDS:
        value = (texts[field_name] or "").strip()
        if value:
            seal(person, field_name, value)
        else:
            setattr(person, CasePerson._meta.get_field(field_name).attname, None)


@transaction.atomic
def case_person_add(
    *,
    actor,
    case,
    role: str,
    relationship: str = "",
    age_band: str = "",
    age: int | None = None,
    gender: str = "",
    region: str = "",
    is_caregiver: bool = False,
    languages: list[str] | None = None,
    name: str = "",
    phone: str = "",
    location: str = "",
    online_identifiers: str = "",
    details: str = "",
) -> CasePerson:
    case = case_for_write(actor, case)
    texts = {"name": name, "phone": phone, "location": location, "online_identifiers": online_identifiers}
    texts["details"] = details
    facts = _facts(
        case=case,
        role=role,
        relationship=relationship,
        age_band=age_band,
        age=age,
        gender=gender,
        region=region,
        is_caregiver=is_caregiver,
        languages=languages,
        texts=texts,
    )
    person = CasePerson(case=case, added_by=actor, **facts)
    _seal_texts(person, texts)
    person.save(force_insert=True)
    case.save(update_fields=["updated_at"])
    audit_record(
        action=actions.CASE_PERSON_ADDED,
        actor=actor.user,
        record=case,
        details={"person": str(person.pk), "role": role},
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
def case_person_update(
    *,
    actor,
    person: CasePerson,
    role: str,
    relationship: str = "",
    age_band: str = "",
    age: int | None = None,
    gender: str = "",
    region: str = "",
    is_caregiver: bool = False,
    languages: list[str] | None = None,
    name: str = "",
    phone: str = "",
    location: str = "",
    online_identifiers: str = "",
    details: str = "",
) -> CasePerson:
    """Replace a person's facts and identifying fields (the whole form, as the page posts it).

    ``languages`` left as None keeps the person's languages (the page's form does not show them).
    """
    case, person = _person_for_write(actor, person)
    texts = {"name": name, "phone": phone, "location": location, "online_identifiers": online_identifiers}
    texts["details"] = details
    facts = _facts(
        case=case,
        role=role,
        relationship=relationship,
        age_band=age_band,
        age=age,
        gender=gender,
        region=region,
        is_caregiver=is_caregiver,
        languages=person.languages if languages is None else languages,
        texts=texts,
    )
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
