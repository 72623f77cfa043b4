"""Second factors whose secrets a copy of the database does not give away.

django-otp's own TOTPDevice keeps the authenticator key in plain text and its StaticToken the
backup codes; these devices keep the key sealed by the vault (its own data key, bound to the
row) and the codes as keyed hashes. django-otp finds them like any device
(``django_otp.devices_for_user``), so the middleware, ``user_has_device`` and
``Device.from_persistent_id`` work unchanged.
"""

import hmac
import secrets
from binascii import unhexlify

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpline.vault.fields import EncryptedTextField
from helpline.vault.keyed_hash import HashPurpose, keyed_hash
from helpline.vault.models import DataKey
from helpline.vault.services import unseal
from helpline.vault.values import Shredded

# Device ids appear in sessions as "<model>/<int>" (django-otp parses them as integers); a
# random one is known before the row is inserted, which the sealed key's binding needs.
DEVICE_ID_MAX = 2**62


def device_id_random() -> int:
    return secrets.randbelow(DEVICE_ID_MAX) + 1


class SealedTOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) whose key is stored only sealed."""

    id = models.BigIntegerField(primary_key=True, default=device_id_random, editable=False)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+", editable=False)
    # The hex-encoded key, as django-otp's TOTPDevice.key, sealed under ``data_key``.
    key = EncryptedTextField()
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = _("authenticator")

    @property
    def bin_key(self) -> bytes:
        secret = unseal(self, "key")
        if isinstance(secret, Shredded) or not secret:
            return b""
        return unhexlify(secret)

    # Verification (drift, replay of a used time step, throttling), the otpauth:// URL for
    # the QR code and the throttle factor are django-otp's own code for its TOTPDevice: it
    # reads nothing but the fields above and ``bin_key``.
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings


def backup_code_digest(*, device_id: int, code: str) -> str:
    """What is stored for one backup code: a keyed hash bound to its device."""
    normalised = code.strip().replace(" ", "").lower()
    return keyed_hash(purpose=HashPurpose.BACKUP_CODE, value=f"{device_id}|{normalised}")


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's single-use backup codes; each is stored only as ``backup_code_digest``."""

    class Meta(Device.Meta):
        verbose_name = _("backup codes")

    def get_throttle_factor(self):
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        digest = backup_code_digest(device_id=self.pk, code=str(token))
        # Every code is compared, in constant time, so timing tells nothing about near misses.
        matches = [code for code in self.codes.all() if hmac.compare_digest(code.digest, digest)]
        if not matches:
            self.throttle_increment()
            return False
        BackupCode.objects.filter(pk__in=[code.pk for code in matches]).delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("backup code")

    def __str__(self):
        return f"Backup code {self.pk}"
