"""``case_facts(case)``: what the SOP engine evaluates. Plain data, JSON-serialisable, no protected text.

The shape is the contract between cases and referrals (docs/CASES.md); keep it exact.
The child's facts come from the case's child record when there is one, else from its
earliest contact's wrap-up.
"""

from cases.models import AgeBand, Case, CasePerson, ContactWrapup, Gender, PersonRole, Relationship

SEALED = ("name", "phone", "location", "online_identifiers", "details", "removal_reason")
CAREGIVER_RELATIONSHIPS = {Relationship.PARENT, Relationship.STEP_PARENT}


def _first(values, default=None):
    return next((value for value in values if value not in ("", None)), default)


def case_facts(case: Case) -> dict:
    case = Case.objects.select_related("line", "taxonomy_version").get(pk=case.pk)
    wrapups = list(
        ContactWrapup.objects.filter(case_links__case=case)
        .order_by("occurred_at", "created_at")
        .only("channel", "caller_type", "age_band", "age", "gender", "region", "child_wants")
    )
    people = list(CasePerson.objects.filter(case=case, removed_at__isnull=True).order_by("added_at").defer(*SEALED))
    child = next((person for person in people if person.role == PersonRole.CHILD), None)
    channels = list(dict.fromkeys(wrapup.channel for wrapup in wrapups))
    child_wants = list(dict.fromkeys(want for wrapup in wrapups for want in wrapup.child_wants))

    def child_fact(name, default=None):
        own = getattr(child, name) if child is not None else None
        return _first([own, *(getattr(wrapup, name) for wrapup in wrapups)], default)

    return {
        "case_id": case.pk,
        "line": case.line.slug,
        "taxonomy_version": case.taxonomy_version.code if case.taxonomy_version else None,
        "channel": channels[0] if channels else None,
        "channels": channels,
        "categories": list(case.categories),
        "risk_level": case.risk_level,
        "caller_type": _first(wrapup.caller_type for wrapup in wrapups),
        "age_band": child_fact("age_band", AgeBand.UNKNOWN),
        "age": child_fact("age"),
        "gender": child_fact("gender", Gender.UNKNOWN),
        "region": child_fact("region"),
        "child_wants": child_wants,
        "incident": {
            "platform": case.platform or None,
            "urls_reported": case.urls_reported,
            "imagery_exists": case.imagery_exists,
            "immediate_danger": case.immediate_danger,
        },
        "people": [
            {
                "id": str(person.pk),
                "role": person.role,
                "relationship": person.relationship or None,
                "age_band": person.age_band or None,
                "region": person.region or None,
                "is_caregiver": person.is_caregiver,
            }
            for person in people
        ],
        "perpetrator_is_caregiver": any(
            person.role == PersonRole.ALLEGED_PERPETRATOR
            and (person.is_caregiver or person.relationship in CAREGIVER_RELATIONSHIPS)
            for person in people
        ),
    }
