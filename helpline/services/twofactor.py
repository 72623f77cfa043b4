"""Write paths of two-factor authentication: enrolment, backup codes, verification, reset.

django-otp does the cryptography and throttling; this module decides the flow. The devices
are ``helpline.models.SealedTOTPDevice`` (key sealed by the vault) and
``BackupCodeDevice`` (codes stored as keyed hashes), so a copy of the database gives away
no second factor.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from helpline import actions
from helpline.access import is_administrator
from helpline.audit.services import audit_record
from helpline.models import BackupCode, BackupCodeDevice, SealedTOTPDevice
from helpline.models.twofactor import backup_code_digest
from helpline.vault.services import datakey_create, seal

BACKUP_DEVICE_NAME = "backup"
TOTP_DEVICE_NAME = "authenticator"
TOTP_KEY_BYTES = 20  # 160 bits, as RFC 4226 recommends and django-otp generates


def twofactor_is_enrolled(user) -> bool:
    return user_has_device(user, confirmed=True)


PENDING_DEVICE_SESSION_KEY = "helpline_pending_totp"


def totp_device_create(*, user, confirmed: bool, name: str = TOTP_DEVICE_NAME) -> SealedTOTPDevice:
    """A new authenticator with a fresh random key, sealed under a data key of its own."""
    device = SealedTOTPDevice(user=user, name=name, confirmed=confirmed, data_key=datakey_create())
    seal(device, "key", random_hex(TOTP_KEY_BYTES))
    device.save(force_insert=True)
    return device


@transaction.atomic
def totp_enrolment_start(*, request) -> SealedTOTPDevice:
    """The authenticator this session is enrolling, reused across its page loads until confirmed.

    The pending device belongs to the session, not the user: a second session that
    knows only the password gets a new secret and voids the first, so it can never
    learn the secret the real user is about to confirm.
    """
    user = request.user
    pending_id = request.session.get(PENDING_DEVICE_SESSION_KEY)
    pending = SealedTOTPDevice.objects.filter(user=user, confirmed=False, pk=pending_id) if pending_id else None
    device = pending.select_related("data_key").first() if pending is not None else None
    if device is None:
        SealedTOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = totp_device_create(user=user, confirmed=False)
        request.session[PENDING_DEVICE_SESSION_KEY] = device.pk
    return device


@transaction.atomic
def totp_enrolment_confirm(*, request, device: SealedTOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a valid code; return the fresh backup codes, or None if the code is wrong."""
    device = SealedTOTPDevice.objects.select_for_update(of=("self",)).select_related("data_key").get(pk=device.pk)
    if device.confirmed or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    request.session.pop(PENDING_DEVICE_SESSION_KEY, None)
    codes = backup_codes_issue(user=device.user)
    _second_factor_login(request, device)
    _audit(request, actions.TWOFACTOR_ENROLLED, user=device.user)
    return codes


@transaction.atomic
def backup_codes_regenerate(*, request) -> list[str]:
    codes = backup_codes_issue(user=request.user)
    _audit(request, actions.TWOFACTOR_BACKUP_CODES_REGENERATED, user=request.user)
    return codes


def twofactor_verify(*, request, token: str) -> bool:
    """Accept a TOTP code or an unused backup code (which is then spent)."""
    device = _device_accepting(request.user, token.strip().replace(" ", ""))
    if device is None:
        _audit(request, actions.TWOFACTOR_FAILED, user=request.user)
        return False
    _second_factor_login(request, device)
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
    SealedTOTPDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
    # Devices of django-otp's own plain models, should any still exist.
    TOTPDevice.objects.filter(user=user).delete()
    StaticToken.objects.filter(device__user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(action=actions.TWOFACTOR_RESET, actor=actor, subject=user, reason=reason)


def backup_codes_issue(*, user) -> list[str]:
    """Replace the user's backup codes with fresh ones, returned once and stored only hashed."""
    device, _ = BackupCodeDevice.objects.get_or_create(user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True})
    device.codes.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(
        BackupCode(device=device, digest=backup_code_digest(device_id=device.pk, code=code)) for code in codes
    )
    return codes


def _device_accepting(user, token: str):
    """The confirmed device that accepts ``token`` (and has recorded its use), or None.

    A code of digits goes to the authenticator first; anything else only to the backup
    codes, so a typo in one never counts against the other's throttle.
    """
    candidates = [SealedTOTPDevice] if token.isdigit() else []
    candidates.append(BackupCodeDevice)
    with transaction.atomic():
        for model in candidates:
            devices = model.objects.filter(user=user, confirmed=True).select_for_update(of=("self",))
            if model is SealedTOTPDevice:
                devices = devices.select_related("data_key")
            for device in devices:
                if device.verify_token(token):
                    return device
    return None


def _second_factor_login(request, device) -> None:
    """Mark the session verified, under a new session key.

    The key the browser held between password and code is worthless from here on:
    whoever captured it (a shared computer, a proxy log) gets the login page.
    """
    otp_login(request, device)
    request.session.cycle_key()


def _audit(request, action: str, *, user, actor=None, **details) -> None:
    audit_record(request=request, action=action, actor=actor or user, subject=user, details=details)
