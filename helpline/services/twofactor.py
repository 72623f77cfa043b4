"""Write paths of two-factor authentication: enrolment, backup codes, verification, reset.

django-otp does the cryptography and throttling; this module decides the flow.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpline import actions
from helpline.access import is_administrator
from helpline.audit.services import audit_record

BACKUP_DEVICE_NAME = "backup"
TOTP_DEVICE_NAME = "authenticator"


def twofactor_is_enrolled(user) -> bool:
    return user_has_device(user, confirmed=True)


PENDING_DEVICE_SESSION_KEY = "helpline_pending_totp"


@transaction.atomic
def totp_enrolment_start(*, request) -> TOTPDevice:
    """The authenticator this session is enrolling, reused across its page loads until confirmed.

    The pending device belongs to the session, not the user: a second session that
    knows only the password gets a new secret and voids the first, so it can never
    learn the secret the real user is about to confirm.
    """
    user = request.user
    pending_id = request.session.get(PENDING_DEVICE_SESSION_KEY)
    device = TOTPDevice.objects.filter(user=user, confirmed=False, pk=pending_id).first() if pending_id else None
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
        request.session[PENDING_DEVICE_SESSION_KEY] = device.pk
    return device


@transaction.atomic
def totp_enrolment_confirm(*, request, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a valid code; return the fresh backup codes, or None if the code is wrong."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    request.session.pop(PENDING_DEVICE_SESSION_KEY, None)
    codes = backup_codes_issue(user=device.user)
    otp_login(request, device)
    _audit(request, actions.TWOFACTOR_ENROLLED, user=device.user)
    return codes


@transaction.atomic
def backup_codes_regenerate(*, request) -> list[str]:
    codes = backup_codes_issue(user=request.user)
    _audit(request, actions.TWOFACTOR_BACKUP_CODES_REGENERATED, user=request.user)
    return codes


def twofactor_verify(*, request, token: str) -> bool:
    """Accept a TOTP code or an unused backup code (which is then spent)."""
    device = match_token(request.user, token.strip().replace(" ", ""))
    if device is None:
        _audit(request, actions.TWOFACTOR_FAILED, user=request.user)
        return False
    otp_login(request, device)
    _audit(request, actions.TWOFACTOR_VERIFIED, user=request.user, device=device.persistent_id)
    return True


@transaction.atomic
def twofactor_reset(*, actor, user, reason: str = "") -> None:
    """Remove every device of ``user``; their next login starts enrolment again.

    Only an administrator resets someone else's devices, never their own (that
    would end their own verified session mid-task); the reason is audited.
    """
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator can reset two-factor authentication."))
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied(_("Your own two-factor authentication cannot be reset by yourself."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(action=actions.TWOFACTOR_RESET, actor=actor, subject=user, reason=reason)


def backup_codes_issue(*, user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _audit(request, action: str, *, user, actor=None, **details) -> None:
    audit_record(request=request, action=action, actor=actor or user, subject=user, details=details)
