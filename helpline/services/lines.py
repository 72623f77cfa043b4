"""Write paths for the lines the organisation runs and their prepared replies.

Only administrators change them (``actor=None`` is the system: a command, the demo).
Each change is audited with the names of the fields that changed, not their values:
the configuration itself is in the database for anyone entitled to read it.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from helpline import actions
from helpline.access import is_administrator
from helpline.audit.services import audit_record
from helpline.models import CannedResponse, Helpline
from helpline.webchat.services import webchat_endpoint_ensure


def _require_administrator(actor) -> None:
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator can change the configuration of a line."))


def _assign(instance, values: dict) -> list[str]:
    """Set ``values`` on ``instance``; return the names whose value changed. Unknown names are a bug."""
    editable = {field.name for field in instance._meta.concrete_fields if field.editable and not field.primary_key}
    unknown = set(values) - editable
    if unknown:
        raise ValueError(f"{type(instance).__name__} has no editable field {', '.join(sorted(unknown))}")
    changed = []
    for name, value in values.items():
        field = instance._meta.get_field(name)
        if field.is_relation:
            if getattr(instance, field.attname) != (value.pk if value is not None else None):
                changed.append(name)
        elif getattr(instance, name) != value:
            changed.append(name)
        setattr(instance, name, value)
    return sorted(changed)


@transaction.atomic
def helpline_ensure(*, slug: str, name: str, languages: list[str], out_of_hours_message: str = "") -> Helpline:
    """Create the line if missing; leave an existing line's configuration as it is."""
    line = Helpline.objects.filter(slug=slug).first()
    if line is not None:
        return line
    values = {"slug": slug, "name": name, "languages": languages, "out_of_hours_message": out_of_hours_message}
    return helpline_create(actor=None, values=values)


@transaction.atomic
def helpline_create(*, actor, values: dict, webchat: bool = False, reason: str = "") -> Helpline:
    """A new line from field values, validated as the model validates them.

    With ``webchat``, the line's web chat page (``/chat/<slug>/``) is opened at once.
    """
    _require_administrator(actor)
    line = Helpline()
    _assign(line, values)
    line.full_clean()
    line.save()
    audit_record(
        action=actions.LINE_CREATED, actor=actor, record=line, reason=reason, details={"fields": sorted(values)}
    )
    if webchat:
        webchat_endpoint_ensure(line=line, actor=actor)
    return line


@transaction.atomic
def helpline_update(*, actor, line: Helpline, values: dict, reason: str = "") -> Helpline:
    """Change some of a line's fields; the audit event lists which."""
    _require_administrator(actor)
    line = Helpline.objects.select_for_update().get(pk=line.pk)
    changed = _assign(line, values)
    if not changed:
        return line
    line.full_clean()
    line.save()
    audit_record(action=actions.LINE_CHANGED, actor=actor, record=line, reason=reason, details={"fields": changed})
    return line


@transaction.atomic
def canned_response_create(*, actor, values: dict) -> CannedResponse:
    _require_administrator(actor)
    response = CannedResponse()
    _assign(response, values)
    response.full_clean()
    response.save()
    audit_record(
        action=actions.CANNED_RESPONSE_CREATED,
        actor=actor,
        record=response,
        details={"line": response.line.slug, "language": response.language},
    )
    return response


@transaction.atomic
def canned_response_update(*, actor, response: CannedResponse, values: dict) -> CannedResponse:
    _require_administrator(actor)
    response = CannedResponse.objects.select_for_update().get(pk=response.pk)
    changed = _assign(response, values)
    if not changed:
        return response
    response.full_clean()
    response.save()
    audit_record(
        action=actions.CANNED_RESPONSE_CHANGED,
        actor=actor,
        record=response,
        details={"line": response.line.slug, "fields": changed},
    )
    return response


@transaction.atomic
def canned_response_delete(*, actor, response: CannedResponse) -> None:
    _require_administrator(actor)
    details = {"line": response.line.slug, "language": response.language}
    audit_record(action=actions.CANNED_RESPONSE_DELETED, actor=actor, record=response, details=details)
    response.delete()
