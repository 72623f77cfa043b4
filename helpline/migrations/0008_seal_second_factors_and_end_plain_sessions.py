"""Move every second factor out of django-otp's plain-text tables, and end every stored session.

- Each otp_totp TOTPDevice becomes a SealedTOTPDevice: same user, name, state and counters,
  its key sealed under a new data key of its own. The plain row is deleted.
- Each otp_static StaticDevice becomes a BackupCodeDevice whose unused codes are stored as
  keyed hashes. The plain rows are deleted.
- django_session held live cookie values: every row is deleted (everyone logs in again);
  new sessions live in helpline_hashedsession under a keyed hash of their key.

The key set is read only when there is something to seal or hash.
"""

import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import migrations

from helpline.models.twofactor import backup_code_digest, device_id_random
from helpline.vault import crypto
from helpline.vault.keys import KEY_BYTES, keys_get
from helpline.vault.values import Sealed

DEVICE_FIELDS = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "created_at",
    "last_used_at",
)
TOTP_FIELDS = ("step", "t0", "digits", "tolerance", "drift", "last_t")


def _copy(source, fields) -> dict:
    return {name: getattr(source, name) for name in fields}


def _data_key(DataKey):
    kek = keys_get().current
    raw_key = os.urandom(KEY_BYTES)
    data_key = DataKey(id=uuid.uuid4(), kek_id=kek.id)
    data_key.wrapped = crypto.datakey_wrap(kek=kek, raw_key=raw_key, datakey_id=data_key.pk)
    data_key.save(force_insert=True)
    return data_key, AESGCM(raw_key)


def seal_totp_devices(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    SealedTOTPDevice = apps.get_model("helpline", "SealedTOTPDevice")
    DataKey = apps.get_model("vault", "DataKey")
    for old in TOTPDevice.objects.all():
        data_key, cipher = _data_key(DataKey)
        device = SealedTOTPDevice(
            id=device_id_random(), data_key=data_key, **_copy(old, DEVICE_FIELDS), **_copy(old, TOTP_FIELDS)
        )
        envelope = crypto.field_encrypt(
            cipher=cipher,
            plaintext=old.key.encode("ascii"),
            associated_data=crypto.field_associated_data(
                model_label="helpline.sealedtotpdevice", field_name="key", pk=str(device.pk)
            ),
        )
        device.key = Sealed(envelope)
        device.save(force_insert=True)
        # created_at is auto_now_add: keep the original enrolment date.
        SealedTOTPDevice.objects.filter(pk=device.pk).update(created_at=old.created_at)
        old.delete()


def hash_backup_codes(apps, schema_editor):
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    BackupCodeDevice = apps.get_model("helpline", "BackupCodeDevice")
    BackupCode = apps.get_model("helpline", "BackupCode")
    for old in StaticDevice.objects.all():
        device = BackupCodeDevice.objects.create(**_copy(old, DEVICE_FIELDS))
        BackupCodeDevice.objects.filter(pk=device.pk).update(created_at=old.created_at)
        tokens = StaticToken.objects.filter(device=old)
        BackupCode.objects.bulk_create(
            BackupCode(device=device, digest=backup_code_digest(device_id=device.pk, code=token.token))
            for token in tokens
        )
        tokens.delete()
        old.delete()


def end_plain_sessions(apps, schema_editor):
    apps.get_model("sessions", "Session").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("helpline", "0007_security_hardening"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
        ("sessions", "0001_initial"),
        ("vault", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seal_totp_devices, migrations.RunPython.noop),
        migrations.RunPython(hash_backup_codes, migrations.RunPython.noop),
        migrations.RunPython(end_plain_sessions, migrations.RunPython.noop),
    ]
