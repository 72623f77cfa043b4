"""The vault's public API: data keys, sealing, unsealing, rotation, crypto-shredding.

    datakey_create() -> DataKey
    seal(instance, field_name, plaintext) -> None           # sets the field; the caller saves
    unseal(instance, field_name) -> str | Shredded
    unseal_row(*, model, field_name, pk, sealed, data_key) -> str | Shredded   # a plain row's value
    datakey_shred(*, data_key) -> DataKey
    datakeys_rotate(*, batch_size=500, max_batches=None) -> RotationResult

Model side (helpline.vault.fields / .models): ``EncryptedTextField(data_key="data_key")``,
``BlindIndexField()``, ``ProtectedRecord`` (abstract: UUID pk + data_key FK), ``DataKey``.
Blind index: ``helpline.vault.blind_index.blind_index(kind=..., value=...)``.

``seal`` and ``unseal`` touch the database only to follow the record's
relation to its DataKey (use ``select_related`` to save that query). Every
plaintext passing through them is remembered for the log filter
(helpline.vault.redaction).

The vault is the lowest layer of the platform and audits nothing itself: a
read made for a person is audited by the selector that makes it
(``helpline.selectors``), and destroying or rotating keys by the service that
asks for it (``helpline.services.keys``).
"""

import logging
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from helpline.vault import crypto
from helpline.vault.errors import (
    DataKeyShreddedError,
    NotSealableError,
    PlaintextRefusedError,
    VaultError,
)
from helpline.vault.fields import EncryptedTextField
from helpline.vault.keys import KEY_BYTES, keys_get
from helpline.vault.models import UNWRAPPED_MEMO, DataKey
from helpline.vault.redaction import remember_protected
from helpline.vault.values import SHREDDED, Sealed, Shredded

logger = logging.getLogger(__name__)


def _unwrap(data_key: DataKey) -> bytes:
    kek = keys_get().kek(data_key.kek_id)
    return crypto.datakey_unwrap(kek=kek, wrapped=bytes(data_key.wrapped), datakey_id=data_key.pk)


def _data_cipher(data_key: DataKey) -> AESGCM:
    """The unwrapped data key, ready to use.

    Remembered on this DataKey object, so that listing a case's notes unwraps
    once; the memo lives and dies with the object (a request, a task), is
    dropped when the object is pickled, and is ignored once ``wrapped`` changes.
    """
    wrapped = bytes(data_key.wrapped)
    memo = data_key.__dict__.get(UNWRAPPED_MEMO)
    if memo is not None and memo[0] == (data_key.kek_id, wrapped):
        return memo[1]
    cipher = AESGCM(_unwrap(data_key))
    data_key.__dict__[UNWRAPPED_MEMO] = ((data_key.kek_id, wrapped), cipher)
    return cipher


def _encrypted_field(instance, field_name: str) -> EncryptedTextField:
    try:
        model_field = instance._meta.get_field(field_name)
    except FieldDoesNotExist:
        model_field = None
    if not isinstance(model_field, EncryptedTextField):
        raise NotSealableError(f"{instance._meta.label}.{field_name} is not an EncryptedTextField")
    return model_field


@transaction.atomic
def datakey_create() -> DataKey:
    """A new random data key for one record, wrapped under the newest KEK."""
    kek = keys_get().current
    data_key = DataKey()
    raw_key = os.urandom(KEY_BYTES)
    data_key.wrapped = crypto.datakey_wrap(kek=kek, raw_key=raw_key, datakey_id=data_key.pk)
    data_key.kek_id = kek.id
    data_key.save(force_insert=True)
    return data_key


def seal(instance, field_name: str, plaintext: str) -> None:
    """Encrypt ``plaintext`` into ``instance.<field_name>``. Saving the instance is the caller's job."""
    model_field = _encrypted_field(instance, field_name)
    if not isinstance(plaintext, str):
        raise PlaintextRefusedError(f"seal() takes text, not {type(plaintext).__name__}")
    binding = model_field.binding(instance)
    data_key = model_field.data_key_of(instance)
    if data_key.is_shredded:
        raise DataKeyShreddedError(
            f"The data key of {crypto.binding_describe(binding)} was destroyed; nothing can be sealed under it"
        )
    try:
        encoded = plaintext.encode("utf-8")
    except UnicodeEncodeError:
        raise PlaintextRefusedError(
            f"The text for {crypto.binding_describe(binding)} is not valid Unicode (lone surrogate)"
        ) from None
    remember_protected(plaintext)
    label, name, pk = binding
    envelope = crypto.field_encrypt(
        cipher=_data_cipher(data_key),
        plaintext=encoded,
        associated_data=crypto.field_associated_data(model_label=label, field_name=name, pk=pk),
    )
    setattr(instance, model_field.attname, Sealed(envelope))


def unseal(instance, field_name: str) -> str | Shredded:
    """The text of ``instance.<field_name>``: "" if never sealed, SHREDDED if its key was destroyed.

    Any other failure raises a VaultError. Reads for a person's eyes are audited by the caller's selector.
    """
    model_field = _encrypted_field(instance, field_name)
    sealed = getattr(instance, model_field.attname)
    if sealed is None:
        return ""
    return _open(model_field.binding(instance), model_field.data_key_of(instance), sealed)


def unseal_row(*, model, field_name: str, pk, sealed: Sealed | None, data_key: DataKey) -> str | Shredded:
    """``unseal`` for a value read as a plain row (``values_list``, no instance): the row's model and primary
    key, the field's value as loaded and the DataKey it is sealed under (the caller read it; sharing one
    DataKey object between rows unwraps it once)."""
    model_field = _encrypted_field(model, field_name)
    if sealed is None:
        return ""
    return _open(model_field.binding_of(pk), data_key, sealed)


def _open(binding: tuple[str, str, str], data_key: DataKey, sealed: Sealed) -> str | Shredded:
    if data_key.is_shredded:
        return SHREDDED
    label, name, pk = binding
    encoded = crypto.field_decrypt(
        cipher=_data_cipher(data_key),
        envelope=sealed.envelope,
        associated_data=crypto.field_associated_data(model_label=label, field_name=name, pk=pk),
        where=binding,
    )
    try:
        plaintext = encoded.decode("utf-8")
    except UnicodeDecodeError:
        # Authenticated but not UTF-8: written by something other than seal().
        raise VaultError(f"The value of {crypto.binding_describe(binding)} is not UTF-8 text") from None
    remember_protected(plaintext)
    return plaintext


@transaction.atomic
def datakey_shred(*, data_key: DataKey) -> DataKey:
    """Destroy a data key for good: every field sealed under it reads as SHREDDED from now on.

    Idempotent: shredding a destroyed key changes nothing (and keeps its first ``shredded_at``).
    """
    locked = DataKey.objects.select_for_update().get(pk=data_key.pk)
    if locked.shredded_at is None:
        locked.wrapped = b""
        locked.shredded_at = timezone.now()
        locked.save(update_fields=["wrapped", "shredded_at"])
    # The caller's copy must not keep the key material either.
    data_key.__dict__.pop(UNWRAPPED_MEMO, None)
    data_key.wrapped = b""
    data_key.shredded_at = locked.shredded_at
    return locked


@dataclass
class RotationResult:
    kek_id: str
    rewrapped: int = 0
    batches: int = 0
    failed: list[str] = field(default_factory=list)
    remaining_by_kek: dict[str, int] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return sum(self.remaining_by_kek.values())


def _rotation_batch(*, keyset, batch_size: int, skip_ids: set) -> tuple[int, list[str], bool]:
    """Re-wrap one batch in its own transaction. Returns (re-wrapped, failed ids, found any)."""
    current = keyset.current
    with transaction.atomic():
        pending = (
            DataKey.objects.filter(shredded_at__isnull=True)
            .exclude(kek_id=current.id)
            .exclude(pk__in=skip_ids)
            .order_by("pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            # Rows another rotation (or a shred) holds are left to it; a later run picks up what remains.
            pending = pending.select_for_update(skip_locked=True)
        batch = list(pending[:batch_size])
        now = timezone.now()
        done, failed = [], []
        for data_key in batch:
            try:
                raw_key = _unwrap(data_key)
            except VaultError:
                failed.append(str(data_key.pk))
                continue
            data_key.wrapped = crypto.datakey_wrap(kek=current, raw_key=raw_key, datakey_id=data_key.pk)
            data_key.kek_id = current.id
            data_key.rotated_at = now
            done.append(data_key)
        DataKey.objects.bulk_update(done, ["wrapped", "kek_id", "rotated_at"])
    return len(done), failed, bool(batch)


def datakeys_rotate(*, batch_size: int = 500, max_batches: int | None = None) -> RotationResult:
    """Re-wrap every live data key that is not under the newest KEK. Never decrypts field data.

    Each batch is its own transaction, so an interrupted run keeps what it
    finished and a second run (or one running at the same time) does the rest.
    Data keys whose KEK is missing or wrong are left as they are and listed in
    ``failed``.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    keyset = keys_get()
    result = RotationResult(kek_id=keyset.current.id)
    skip_ids: set = set()
    while max_batches is None or result.batches < max_batches:
        rewrapped, failed, found = _rotation_batch(keyset=keyset, batch_size=batch_size, skip_ids=skip_ids)
        if not found:
            break
        result.batches += 1
        result.rewrapped += rewrapped
        result.failed.extend(failed)
        skip_ids.update(failed)
    live = DataKey.objects.filter(shredded_at__isnull=True).exclude(kek_id=keyset.current.id)
    result.remaining_by_kek = {
        row["kek_id"]: row["count"] for row in live.values("kek_id").annotate(count=Count("pk")).order_by("kek_id")
    }
    if result.failed:
        logger.warning("Key rotation left %d data keys it could not unwrap", len(result.failed))
    return result
