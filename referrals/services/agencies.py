"""Write paths for the agency directory and for which agency an authority user belongs to.

Only administrators change the directory (``actor=None`` is the system: the demo
data, a management command). An agency's transport secrets (a signing key, a
token) are sealed under the agency's own data key as they arrive and are never
returned, shown, logged or audited: audit events name the agency and which
settings changed, never their values.
"""

import json
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from helpline.access import is_administrator, role_of
from helpline.audit.services import audit_record
from helpline.models import Role
from helpline.vault.services import datakey_create, seal, unseal
from helpline.vault.values import Shredded
from referrals import actions
from referrals.document_fields import field_paths_unknown
from referrals.models import Agency, AgencyKind, AgencyMembership
from referrals.transports import transport_get

REGION_CODE = re.compile(r"[A-Z]{2}(?:-[A-Z0-9]{1,6})?")
TAXONOMY_CODE = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")

# The plain fields a caller may set; transport secrets travel separately.
PLAIN_FIELDS = (
    "code",
    "name",
    "kind",
    "regions",
    "national",
    "languages",
    "needs",
    "description",
    "phone",
    "email",
    "website",
    "address",
    "hours",
    "transport",
    "transport_config",
    "fields",
    "notice_email",
    "active",
)


def _require_administrator(actor) -> None:
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator can change the agency directory."))


def agency_secrets(agency: Agency) -> dict:
    """The agency's unsealed transport secrets, for the delivery worker only (never for a page)."""
    text = unseal(agency, "transport_secrets")
    if isinstance(text, Shredded) or not text:
        return {}
    return json.loads(text)


def agency_clean(values: dict, *, secrets: dict) -> dict:
    """Normalised plain values, or a ValidationError naming each field that is wrong (never a secret's value)."""
    values = dict(values)
    errors: dict[str, list[str]] = {}
    values["code"] = str(values.get("code", "")).strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,63}", values["code"]):
        errors["code"] = [_("A code is lower-case letters, digits and hyphens, such as ke-police-nairobi.")]
    values["name"] = str(values.get("name", "")).strip()
    if not values["name"]:
        errors["name"] = [_("Give the agency's name.")]
    if values.get("kind") not in AgencyKind.values:
        errors["kind"] = [_("Choose what kind of agency this is.")]
    for key, pattern, message in (
        ("regions", REGION_CODE, _("%(codes)s: a region code looks like KE or KE-047.")),
        ("languages", LANGUAGE_CODE, _("%(codes)s: a language code is two or three letters, such as en.")),
        ("needs", TAXONOMY_CODE, _("%(codes)s: a need is a taxonomy code such as violence.ocsea.sextortion.")),
    ):
        items = _list_of_text(values.get(key))
        wrong = [item for item in items if not pattern.fullmatch(item)]
        if wrong:
            errors[key] = [message % {"codes": ", ".join(wrong)}]
        values[key] = items
    values["national"] = bool(values.get("national", False))
    values["active"] = bool(values.get("active", True))
    if not values["regions"] and not values["national"]:
        errors.setdefault("regions", []).append(_("Give the regions it covers, or mark it national."))
    fields = _list_of_text(values.get("fields"))
    unknown = field_paths_unknown(fields)
    if unknown:
        errors["fields"] = [_("%(paths)s: not a field of the referral document.") % {"paths": ", ".join(unknown)}]
    values["fields"] = fields
    values["transport"] = str(values.get("transport") or "portal")
    config = values.get("transport_config") or {}
    if not isinstance(config, dict):
        errors["transport_config"] = [_("Delivery settings are named values.")]
        config = {}
    values["transport_config"] = {str(key): str(value) for key, value in config.items()}
    try:
        transport = transport_get(values["transport"])
    except LookupError:
        errors["transport"] = [_("This delivery method is not installed.")]
    else:
        unexpected = sorted(set(values["transport_config"]) - set(transport.config_fields))
        if unexpected:
            errors.setdefault("transport_config", []).append(
                _("%(keys)s: not a setting of this delivery method.") % {"keys": ", ".join(unexpected)}
            )
        problems = transport.validate_config(values["transport_config"], secrets)
        if problems:
            errors.setdefault("transport_config", []).extend(problems)
    for key in ("description", "phone", "email", "website", "address", "hours", "notice_email"):
        values[key] = str(values.get(key) or "").strip()
    if values["notice_email"]:
        try:
            validate_email(values["notice_email"])
        except ValidationError:
            errors["notice_email"] = [_("Give one e-mail address for the portal's notices, or none.")]
    if errors:
        raise ValidationError(errors)
    return values


def _list_of_text(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[\s,;]+", value)
    items = []
    for item in value:
        item = str(item).strip()
        if item and item not in items:
            items.append(item)
    return items


def _secret_values(secrets: dict | None, transport_name: str) -> dict:
    """Only the transport's declared secret fields, non-empty, as text."""
    try:
        allowed = set(transport_get(transport_name).secret_fields)
    except LookupError:
        allowed = set()
    return {str(key): str(value) for key, value in (secrets or {}).items() if key in allowed and str(value)}


@transaction.atomic
def agency_create(*, actor, secrets: dict | None = None, reason: str = "", **values) -> Agency:
    """A new agency of the directory; ``values`` are the plain fields (PLAIN_FIELDS)."""
    _require_administrator(actor)
    _refuse_unknown(values)
    secret_values = _secret_values(secrets, str(values.get("transport") or "portal"))
    cleaned = agency_clean(values, secrets=secret_values)
    if Agency.objects.filter(code=cleaned["code"]).exists():
        raise ValidationError({"code": [_("Another agency already has this code.")]})
    agency = Agency(**cleaned, data_key=datakey_create())
    seal(agency, "transport_secrets", json.dumps(secret_values, sort_keys=True))
    agency.save(force_insert=True)
    audit_record(
        action=actions.AGENCY_CREATED,
        actor=actor,
        record=agency,
        reason=reason,
        details={"code": agency.code, "kind": agency.kind, "transport": agency.transport},
    )
    return agency


@transaction.atomic
def agency_update(*, actor, agency: Agency, secrets: dict | None = None, reason: str = "", **changes) -> Agency:
    """Change some plain fields and/or replace some secrets (a secret left out or empty is kept)."""
    _require_administrator(actor)
    _refuse_unknown(changes)
    agency = Agency.objects.select_for_update().select_related("data_key").get(pk=agency.pk)
    current = {key: getattr(agency, key) for key in PLAIN_FIELDS}
    merged = {**current, **changes}
    kept = agency_secrets(agency)
    if merged["transport"] != agency.transport:
        kept = {}  # another method's secrets mean nothing to the new one
    new_secrets = _secret_values(secrets, str(merged.get("transport") or "portal"))
    all_secrets = {**_secret_values(kept, merged["transport"]), **new_secrets}
    cleaned = agency_clean(merged, secrets=all_secrets)
    if cleaned["code"] != agency.code and Agency.objects.filter(code=cleaned["code"]).exists():
        raise ValidationError({"code": [_("Another agency already has this code.")]})
    changed = sorted(key for key in PLAIN_FIELDS if cleaned[key] != current[key])
    for key in changed:
        setattr(agency, key, cleaned[key])
    update_fields = [*changed]
    if all_secrets != kept:
        seal(agency, "transport_secrets", json.dumps(all_secrets, sort_keys=True))
        update_fields.append("transport_secrets")
    if not update_fields:
        return agency
    agency.save(update_fields=[*update_fields, "updated_at"])
    if changed:
        audit_record(
            action=actions.AGENCY_UPDATED,
            actor=actor,
            record=agency,
            reason=reason,
            details={"code": agency.code, "changed": changed},
        )
    if "transport_secrets" in update_fields:
        audit_record(
            action=actions.AGENCY_SECRETS_CHANGED,
            actor=actor,
            record=agency,
            reason=reason,
            details={"code": agency.code, "names": sorted(new_secrets)},
        )
    return agency


def _refuse_unknown(values: dict) -> None:
    unknown = sorted(set(values) - set(PLAIN_FIELDS))
    if unknown:
        raise TypeError(f"Not agency fields: {', '.join(unknown)}")


@transaction.atomic
def agency_membership_set(*, actor, user, agency: Agency | None, reason: str = "") -> AgencyMembership | None:
    """Make ``user`` (an authority user) a member of ``agency``; ``None`` removes them from any agency."""
    _require_administrator(actor)
    existing = AgencyMembership.objects.select_for_update().filter(user=user).select_related("agency").first()
    if agency is None:
        if existing is None:
            return None
        old_code = existing.agency.code
        existing.delete()
        audit_record(
            action=actions.AGENCY_MEMBERSHIP_REMOVED,
            actor=actor,
            subject=user,
            reason=reason,
            details={"agency": old_code},
        )
        return None
    if role_of(user) != Role.AUTHORITY:
        raise ValidationError(_("Only authority users belong to an agency."))
    if existing is not None and existing.agency_id == agency.pk:
        return existing
    if existing is None:
        membership = AgencyMembership.objects.create(user=user, agency=agency)
        previous = None
    else:
        previous = existing.agency.code
        existing.agency = agency
        existing.save(update_fields=["agency"])
        membership = existing
    audit_record(
        action=actions.AGENCY_MEMBERSHIP_SET,
        actor=actor,
        subject=user,
        record=agency,
        reason=reason,
        details={"agency": agency.code, "previous": previous},
    )
    return membership
