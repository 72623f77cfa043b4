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


def _shown(value) -> str:
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list | tuple):
        return ", ".join(_shown(item) for item in value)
    if isinstance(value, dict):
        return str(value.get("label") or value.get("code") or ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()))
    return str(value)


def _block_rows(parent: str, block: dict, suffix: str = "") -> list[tuple[str, str]]:
    rows = [
        (f"{label}{suffix}", _shown(block[path.split(".", 1)[1]]))
        for path, (label, _protected) in SHAREABLE_FIELDS.items()
        if path.startswith(parent + ".") and path.split(".", 1)[1] in block
    ]
    unknown = [sub for sub in block if f"{parent}.{sub}" not in SHAREABLE_FIELDS]
    return rows + [(f"{parent}.{sub}{suffix}", _shown(block[sub])) for sub in unknown]


def document_rows(document: dict | None) -> list[tuple[str, str]]:
    """The shared fields of a document as it was sent, as (label, text) rows for a person to read:
    the fields below the envelope only, in the order of ``SHAREABLE_FIELDS``, each person involved
    numbered. A key the list does not know is shown under its own path rather than hidden."""
    if not document:
        return []
    rows = [
        (str(SHAREABLE_FIELDS[key][0]), _shown(document[key]))
        for key in ("categories", "risk_level")
        if key in document
    ]
    rows += _block_rows("child", document.get("child") or {})
    for index, person in enumerate(document.get("people") or (), start=1):
        rows += _block_rows("people", person, f" ({index})")
    rows += _block_rows("incident", document.get("incident") or {})
    rows += _block_rows("report_remove", document.get("report_remove") or {})
    known = {"categories", "risk_level", "child", "people", "incident", "report_remove", *ENVELOPE_KEYS}
    return rows + [(key, _shown(value)) for key, value in document.items() if key not in known]
