"""The two AES-GCM envelopes of the vault, and nothing else.

Both envelopes are ``version byte | 96-bit nonce | ciphertext with 128-bit tag``.
A fresh random nonce per value is safe with AES-GCM up to about 2**32 values
per key; a data key protects one record, so it stays far below that.

Associated data (AD) is authenticated but not stored: it says where a value
belongs, so the same bytes moved anywhere else fail to decrypt.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from helpline.vault.errors import CiphertextInvalidError, CiphertextMismatchError, DataKeyUnwrapError
from helpline.vault.keys import KEY_BYTES, Kek

VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = 1 + NONCE_BYTES
MIN_ENVELOPE_BYTES = HEADER_BYTES + TAG_BYTES


def _seal(aead: AESGCM, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return bytes([VERSION]) + nonce + aead.encrypt(nonce, plaintext, associated_data)


def _open(aead: AESGCM, envelope: bytes, associated_data: bytes) -> bytes:
    """Raises InvalidTag on authentication failure; the callers turn it into their own error."""
    return aead.decrypt(envelope[1:HEADER_BYTES], envelope[HEADER_BYTES:], associated_data)


def _check_envelope(envelope: bytes, *, what: str) -> None:
    if len(envelope) < MIN_ENVELOPE_BYTES:
        raise CiphertextInvalidError(f"{what} is truncated ({len(envelope)} bytes)")
    if envelope[0] != VERSION:
        raise CiphertextInvalidError(f"{what} has unknown envelope version {envelope[0]}")


def datakey_associated_data(datakey_id) -> bytes:
    return b"helpline.vault.datakey.v1|" + str(datakey_id).encode("ascii")


def datakey_wrap(*, kek: Kek, raw_key: bytes, datakey_id) -> bytes:
    return _seal(kek.aead, raw_key, datakey_associated_data(datakey_id))


def datakey_unwrap(*, kek: Kek, wrapped: bytes, datakey_id) -> bytes:
    what = f"Data key {datakey_id}"
    _check_envelope(wrapped, what=what)
    try:
        raw_key = _open(kek.aead, wrapped, datakey_associated_data(datakey_id))
    except InvalidTag:
        raise DataKeyUnwrapError(
            f"{what} does not open under KEK {kek.id!r}: the KEK is wrong or the row was altered"
        ) from None
    if len(raw_key) != KEY_BYTES:
        raise DataKeyUnwrapError(f"{what} has the wrong length")
    return raw_key


def field_associated_data(*, model_label: str, field_name: str, pk: str) -> bytes:
    # Separators cannot occur in a model label or field name; the pk is last.
    return f"helpline.vault.field.v1|{model_label}|{field_name}|{pk}".encode()


def field_encrypt(*, cipher: AESGCM, plaintext: bytes, associated_data: bytes) -> bytes:
    return _seal(cipher, plaintext, associated_data)


def field_decrypt(*, cipher: AESGCM, envelope: bytes, associated_data: bytes, where: tuple[str, str, str]) -> bytes:
    """``where`` is the (model label, field, pk) binding, named in errors and nowhere else."""
    if len(envelope) < MIN_ENVELOPE_BYTES or envelope[0] != VERSION:
        _check_envelope(envelope, what=f"The value of {binding_describe(where)}")
    try:
        return _open(cipher, envelope, associated_data)
    except InvalidTag:
        raise CiphertextMismatchError(
            f"The value of {binding_describe(where)} fails authentication: "
            "it was altered, or copied from another record or field"
        ) from None


def binding_describe(where: tuple[str, str, str]) -> str:
    label, field_name, pk = where
    return f"{label}.{field_name} of {pk}"
