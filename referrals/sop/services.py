"""Write paths of SOP versions: save a draft, activate a version, import a document.

Only administrators change SOPs (``actor=None`` is the system: a command, the demo).
Every document is checked before it is stored (``SopInvalid`` lists the mistakes with
line, column and rule id), category codes against the taxonomy the line classifies
under. Activation retires the previous active version in the same transaction; the
partial unique constraint ``sop_one_active_per_line`` makes two active versions of a
line impossible even for concurrent activations. Each write is audited with the
line and version numbers, never the text.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from helpline.access import is_administrator
from helpline.audit.services import audit_record
from helpline.models import Helpline
from referrals.sop import actions
from referrals.sop.document import sop_parse
from referrals.sop.engine import Sop
from referrals.sop.models import SopStatus, SopVersion
from referrals.sop.selectors import sop_known_categories


class SopNotEditable(ValueError):
    """Only drafts change; an active or retired version is kept as it was."""


def _require_administrator(actor) -> None:
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator can change a line's SOP."))


def _staff(actor):
    return getattr(actor, "staff", None) if actor is not None else None


def _checked(*, line, text: str) -> Sop:
    return sop_parse(text, known_categories=sop_known_categories(line))


def _create(*, actor, line: Helpline, text: str, sop: Sop) -> SopVersion:
    # The line's row serialises numbering: two saves at once get 4 and 5, not 4 twice.
    Helpline.objects.select_for_update().get(pk=line.pk)
    number = (SopVersion.objects.filter(line=line).aggregate(top=Max("number"))["top"] or 0) + 1
    return SopVersion.objects.create(
        line=line, number=number, name=sop.name, text=text, created_by=_staff(actor), updated_by=_staff(actor)
    )


@transaction.atomic
def sop_draft_save(
    *, actor, line: Helpline, text: str, version: SopVersion | None = None, reason: str = ""
) -> SopVersion:
    """A new draft for ``line`` (``version=None``), or new text for the draft ``version``."""
    _require_administrator(actor)
    sop = _checked(line=line, text=text)
    if version is None:
        draft = _create(actor=actor, line=line, text=text, sop=sop)
    else:
        draft = SopVersion.objects.select_for_update().get(pk=version.pk, line=line)
        if draft.status != SopStatus.DRAFT:
            raise SopNotEditable(
                _("Version %(number)s is %(status)s; only drafts can be edited.")
                % {
                    "number": draft.number,
                    "status": draft.get_status_display(),
                }
            )
        draft.text, draft.name, draft.updated_by = text, sop.name, _staff(actor)
        draft.save(update_fields=["text", "name", "updated_by", "updated_at"])
    audit_record(
        action=actions.SOP_DRAFT_SAVED,
        actor=actor,
        record=draft,
        reason=reason,
        details={"line": line.slug, "number": draft.number, "rules": len(sop.rules), "new": version is None},
    )
    return draft


@transaction.atomic
def sop_activate(*, actor, version: SopVersion, reason: str = "") -> SopVersion:
    """Make ``version`` the line's active SOP (a draft, or a retired one to roll back); the active one retires."""
    _require_administrator(actor)
    line = Helpline.objects.select_for_update().get(pk=version.line_id)
    version = SopVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == SopStatus.ACTIVE:
        return version
    sop = _checked(line=line, text=version.text)  # the taxonomy may have changed since the draft was saved
    now = timezone.now()
    previous = SopVersion.objects.select_for_update().filter(line=line, status=SopStatus.ACTIVE).first()
    if previous is not None:
        previous.status, previous.retired_at = SopStatus.RETIRED, now
        previous.save(update_fields=["status", "retired_at", "updated_at"])
    version.status, version.activated_at, version.activated_by, version.retired_at = (
        SopStatus.ACTIVE,
        now,
        _staff(actor),
        None,
    )
    version.save(update_fields=["status", "activated_at", "activated_by", "retired_at", "updated_at"])
    audit_record(
        action=actions.SOP_ACTIVATED,
        actor=actor,
        record=version,
        reason=reason,
        details={
            "line": line.slug,
            "number": version.number,
            "name": sop.name,
            "previous": previous.number if previous else None,
        },
    )
    return version


@transaction.atomic
def sop_import(*, actor, line: Helpline, text: str, activate: bool = False, reason: str = "") -> SopVersion:
    """A document from outside (a file, the demo) as a new version of ``line``; activated at once if asked."""
    _require_administrator(actor)
    sop = _checked(line=line, text=text)
    version = _create(actor=actor, line=line, text=text, sop=sop)
    audit_record(
        action=actions.SOP_IMPORTED,
        actor=actor,
        record=version,
        reason=reason,
        details={"line": line.slug, "number": version.number, "rules": len(sop.rules)},
    )
    if activate:
        version = sop_activate(actor=actor, version=version, reason=reason)
    return version
