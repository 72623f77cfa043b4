"""Supervisors' flags on a case: raised with a sealed message, removed on the record (never deleted)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import actions
from cases.errors import CaseError
from cases.models import CaseFlag
from cases.selectors.access import supervises_case
from cases.services.cases import case_for_write
from helpline.audit.services import audit_record
from helpline.vault.services import seal

MAX_MESSAGE_LENGTH = 2000


@transaction.atomic
def case_flag_raise(*, actor, case, message: str) -> CaseFlag:
    if not supervises_case(actor.user, case):
        raise PermissionDenied
    case = case_for_write(actor, case)
    message = (message or "").strip()
    if not message:
        raise CaseError(_("Say why the case is flagged."))
    if len(message) > MAX_MESSAGE_LENGTH:
        raise CaseError(_("The message is too long."))
    flag = CaseFlag(case=case, raised_by=actor)
    seal(flag, "message", message)
    flag.save(force_insert=True)
    audit_record(action=actions.CASE_FLAG_RAISED, actor=actor.user, record=case, details={"flag": str(flag.pk)})
    return flag


@transaction.atomic
def case_flag_remove(*, actor, flag: CaseFlag) -> CaseFlag:
    flag = CaseFlag.objects.select_for_update().select_related("case").get(pk=flag.pk)
    if not supervises_case(actor.user, flag.case):
        raise PermissionDenied
    if flag.removed_at is not None:
        raise CaseError(_("This flag was already removed."))
    flag.removed_by = actor
    flag.removed_at = timezone.now()
    flag.save(update_fields=["removed_by", "removed_at"])
    audit_record(action=actions.CASE_FLAG_REMOVED, actor=actor.user, record=flag.case, details={"flag": str(flag.pk)})
    return flag
