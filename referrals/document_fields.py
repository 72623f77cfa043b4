"""The dotted paths of the canonical referral document that an agency may be allowed to receive.

The document itself is built by ``referrals.document``; its shape is published as
``docs/referral-document.schema.json``. The envelope (schema, ids, reference, dates,
urgency, helpline, agency, consent) always goes out; everything below is shared
only when the agency's ``fields`` name it (a path, or a parent path such as
``child`` for every ``child.*``) and the proposal asks for it.
"""

from django.utils.translation import gettext_lazy as _

ENVELOPE_KEYS = (
    "schema",
    "referral_id",
    "case_reference",
    "created_at",
    "acknowledge_by",
    "complete_by",
    "urgency",
    "helpline",
    "agency",
    "consent",
)

# path -> (label for administrators, whether it is protected content unsealed from the case)
SHAREABLE_FIELDS: dict[str, tuple[object, bool]] = {
    "categories": (_("Categories of harm"), False),
    "risk_level": (_("Risk level"), False),
    "child.age_band": (_("Child: age band"), False),
    "child.age": (_("Child: age"), False),
    "child.gender": (_("Child: gender"), False),
    "child.region": (_("Child: region"), False),
    "child.languages": (_("Child: languages"), False),
    "child.name": (_("Child: name"), True),
    "child.phone": (_("Child: phone number"), True),
    "child.location": (_("Child: location"), True),
    "people.role": (_("People involved: role"), False),
    "people.relationship": (_("People involved: relationship"), False),
    "people.age_band": (_("People involved: age band"), False),
    "people.name": (_("People involved: name"), True),
    "people.online_identifiers": (_("People involved: online identifiers"), True),
    "incident.platform": (_("Incident: platform"), False),
    "incident.imagery_exists": (_("Incident: imagery exists"), False),
    "incident.immediate_danger": (_("Incident: immediate danger"), False),
    "incident.occurred_on": (_("Incident: date"), False),
    "incident.urls": (_("Incident: reported addresses (URLs)"), True),
    "incident.summary": (_("Incident: summary"), True),
    "report_remove.age_range": (_("Report Remove: age range"), False),
    "report_remove.reference": (_("Report Remove: reference"), False),
}

PARENTS = sorted({path.split(".")[0] for path in SHAREABLE_FIELDS if "." in path})


def field_paths_expand(paths) -> set[str]:
    """The leaf paths named by ``paths``: ``child`` stands for every ``child.*``; unknown paths drop out."""
    leaves = set()
    for path in paths or ():
        path = str(path).strip()
        if path in SHAREABLE_FIELDS:
            leaves.add(path)
        elif path in PARENTS:
            leaves.update(leaf for leaf in SHAREABLE_FIELDS if leaf.startswith(path + "."))
    return leaves


def field_paths_unknown(paths) -> list[str]:
    """The paths that name no shareable field (for a clear error to an administrator).

    ``consent`` is accepted (SOPs may name it) though it always goes out with the envelope."""
    return [path for path in paths if path not in SHAREABLE_FIELDS and path not in PARENTS and path != "consent"]
