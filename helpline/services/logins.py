"""Write paths of login throttling: a supervisor lets a locked-out colleague in again.

The throttling itself (what counts, what is refused) is ``helpline.login_throttle``.
"""

from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from helpline import actions
from helpline.audit.services import audit_record
from helpline.login_throttle import login_name_digest
from helpline.models import LoginUnlock, Role, Staff

MAX_REASON_LENGTH = 500


@transaction.atomic
def login_unlock(*, actor: Staff, staff: Staff, reason: str) -> LoginUnlock:
    """Clear ``staff``'s failed logins from every address and let their name past a locked address.

    Only a supervisor of one of their lines may, never for themselves, and only with a reason;
    the unlock is audited with both names and the reason. It lasts until ``staff`` next logs in
    or the cool-off time passes, whichever comes first.
    """
    if actor.role != Role.SUPERVISOR or actor.pk == staff.pk or staff.role not in (Role.COUNSELLOR, Role.SUPERVISOR):
        raise PermissionDenied
    if not actor.lines.filter(pk__in=staff.lines.all()).exists():
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why you are unlocking this sign-in."))
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(_("Keep the reason under %(count)d characters.") % {"count": MAX_REASON_LENGTH})
    attempts = AccessAttempt.objects.filter(username=login_name_digest(staff.user.get_username()))
    cleared = attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0
    attempts.delete()
    LoginUnlock.objects.filter(user=staff.user).delete()
    unlock = LoginUnlock.objects.create(
        user=staff.user, granted_by=actor, expires_at=timezone.now() + settings.AXES_COOLOFF_TIME
    )
    audit_record(
        action=actions.LOGIN_UNLOCKED,
        actor=actor.user,
        subject=staff.user,
        reason=reason,
        details={"failures_cleared": cleared},
    )
    return unlock


def login_unlock_spend(*, user) -> int:
    """The colleague got in: their unlock has done its job. (Their login itself is audited.)"""
    deleted, _details = LoginUnlock.objects.filter(user=user).delete()
    return deleted
