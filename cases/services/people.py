"""People involved in a case: structured facts plain, identifying fields sealed under the case's key."""

from django.db import transaction
from django.utils.translation import gettext as _

from cases import actions
from cases.errors import CaseError
from cases.models import AgeBand, CasePerson, Gender, PersonRole, Relationship
from cases.selectors.taxonomy import line_regions
from cases.services.cases import case_for_write
from cases.services.wrapups import MAX_AGE, age_band_for
from cases.signals import case_facts_announce
from helpline.audit.services import audit_record
from helpline.vault.services import seal

SEALED_FIELDS = ("name", "phone", "location", "online_identifiers", "details")
MAX_FIELD_LENGTH = 2000


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
    texts = {"name": name, "phone": phone, "location": location, "online_identifiers": online_identifiers}
    texts["details"] = details
    if any(len(value or "") > MAX_FIELD_LENGTH for value in texts.values()):
        raise CaseError(_("A field is too long."))
    person = CasePerson(
        case=case,
        role=role,
        relationship=relationship or ("self" if role == PersonRole.CHILD else ""),
        age_band=age_band,
        age=age,
        gender=gender,
        region=region,
        is_caregiver=bool(is_caregiver) or role == PersonRole.CAREGIVER,
        languages=[code for code in (languages or []) if isinstance(code, str)][:10],
        added_by=actor,
    )
    for field_name in SEALED_FIELDS:
        value = (texts[field_name] or "").strip()
        if value:
            seal(person, field_name, value)
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
