"""Key-encryption keys (KEKs) and the blind-index key.

Where the keys come from, first match wins:
1. ``settings.HELPLINE_KEYS`` (filled from the environment variable of the same name), a JSON document;
2. the file ``settings.HELPLINE_KEYS_FILE`` holding the same JSON.

    {"keks": [{"id": "k-2026-11", "key": "<urlsafe base64 of 32 bytes>"}, ...],
     "index_key": "<urlsafe base64 of 32 bytes>"}

The first KEK wraps new data keys; every listed KEK can unwrap. The index key
is separate, so that a blind index reveals nothing about the KEKs and the
other way round.

In embedded mode a missing key file is generated on first use, created with
mode 0600 from the first byte. In production nothing is generated: a missing
or malformed key set stops startup (see ``VaultConfig.ready``).

The loaded key set is cached for the process; ``keys_reset_cache()`` drops it,
and overriding one of the settings above in a test drops it too.
"""

import base64
import binascii
import json
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from helpline.vault.errors import KeyConfigurationError, UnknownKekError

logger = logging.getLogger(__name__)

KEY_BYTES = 32
KEK_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
KEY_SETTINGS = {"HELPLINE_KEYS", "HELPLINE_KEYS_FILE", "PRODUCTION"}


@dataclass(frozen=True)
class Kek:
    id: str
    key: bytes = field(repr=False)

    @cached_property
    def aead(self) -> AESGCM:
        return AESGCM(self.key)


@dataclass(frozen=True)
class KeySet:
    keks: tuple[Kek, ...]
    index_key: bytes = field(repr=False)

    @property
    def current(self) -> Kek:
        """The KEK that wraps new data keys and that rotation moves everything to."""
        return self.keks[0]

    def kek(self, kek_id: str) -> Kek:
        for kek in self.keks:
            if kek.id == kek_id:
                return kek
        raise UnknownKekError(
            f"KEK {kek_id!r} is not configured; it must stay in the key set until `manage.py keys_rotate` "
            "has moved every data key off it."
        )


def encode_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode_key(value, *, what: str) -> bytes:
    if not isinstance(value, str):
        raise KeyConfigurationError(f"{what} must be a string of urlsafe base64")
    text = value.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigurationError(f"{what} is not valid urlsafe base64") from None
    if len(raw) != KEY_BYTES:
        raise KeyConfigurationError(f"{what} must decode to {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def keyset_parse(document: str | bytes, *, source: str) -> KeySet:
    """Validate a key set. Errors name the source and the entry, never a key."""
    try:
        data = json.loads(document)
    except (ValueError, UnicodeDecodeError):
        raise KeyConfigurationError(f"The key set in {source} is not valid JSON") from None
    if not isinstance(data, dict):
        raise KeyConfigurationError(f"The key set in {source} must be a JSON object with 'keks' and 'index_key'")
    entries = data.get("keks")
    if not isinstance(entries, list) or not entries:
        raise KeyConfigurationError(f"The key set in {source} needs a non-empty list 'keks'")
    keks = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise KeyConfigurationError(f"Entry {position} of 'keks' in {source} must be an object with 'id' and 'key'")
        kek_id = entry.get("id")
        if not isinstance(kek_id, str) or not KEK_ID_PATTERN.match(kek_id):
            raise KeyConfigurationError(
                f"Entry {position} of 'keks' in {source} needs an 'id' of 1-64 letters, digits, '.', '_' or '-'"
            )
        if any(kek.id == kek_id for kek in keks):
            raise KeyConfigurationError(f"KEK id {kek_id!r} appears twice in {source}")
        keks.append(Kek(id=kek_id, key=_decode_key(entry.get("key"), what=f"The key of KEK {kek_id!r} in {source}")))
    index_key = _decode_key(data.get("index_key"), what=f"'index_key' in {source}")
    if any(kek.key == index_key for kek in keks):
        raise KeyConfigurationError(f"'index_key' in {source} must differ from every KEK")
    return KeySet(keks=tuple(keks), index_key=index_key)


def kek_entry_generate(*, kek_id: str | None = None) -> dict:
    """A new KEK entry for the 'keks' list (its id names the month it was made)."""
    kek_id = kek_id or f"k-{datetime.now(UTC):%Y-%m}-{secrets.token_hex(2)}"
    if not KEK_ID_PATTERN.match(kek_id):
        raise ValueError("A KEK id is 1-64 letters, digits, '.', '_' or '-'")
    return {"id": kek_id, "key": encode_key(secrets.token_bytes(KEY_BYTES))}


def keyset_generate() -> dict:
    """A complete new key set: one KEK and an index key."""
    return {"keks": [kek_entry_generate()], "index_key": encode_key(secrets.token_bytes(KEY_BYTES))}


def _write_private(path: Path, content: str) -> None:
    """Create ``path`` (never overwrite it), readable and writable by the owner only from the first byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _key_file_create(path: Path) -> None:
    """Write a new key set to ``path`` unless one exists.

    The document goes to a private temporary file first and is then
    hard-linked into place, so a process starting at the same moment sees
    either no file or a complete one, and nobody overwrites anybody.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    content = json.dumps(keyset_generate(), indent=2) + "\n"
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    _write_private(temporary, content)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # Someone else won the race; theirs is the key set.
    except OSError:
        # No hard links on this file system: create the file exclusively instead.
        try:
            _write_private(path, content)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    logger.info("Generated a new embedded key set at %s", path)


def keyset_load() -> KeySet:
    """Read the key set from the configured source, without the cache."""
    production = getattr(settings, "PRODUCTION", False)
    document = getattr(settings, "HELPLINE_KEYS", "") or ""
    if document.strip():
        return keyset_parse(document, source="HELPLINE_KEYS")
    file_setting = getattr(settings, "HELPLINE_KEYS_FILE", "") or ""
    if not file_setting:
        raise KeyConfigurationError("No keys: set HELPLINE_KEYS or HELPLINE_KEYS_FILE (see docs/DATA_PROTECTION.md)")
    path = Path(file_setting)
    if not path.exists():
        if production:
            raise KeyConfigurationError(
                f"The key file {path} does not exist; production never generates keys (see docs/DATA_PROTECTION.md)"
            )
        _key_file_create(path)
    try:
        document = path.read_bytes()
    except OSError as exc:
        raise KeyConfigurationError(f"The key file {path} cannot be read ({exc.strerror})") from None
    if path.stat().st_mode & 0o077:
        logger.warning("The key file %s is readable by other users; restrict it to mode 0600", path)
    return keyset_parse(document, source=str(path))


_cache_lock = threading.Lock()
_cached: KeySet | None = None


def keys_get() -> KeySet:
    """The process-wide key set, loaded on first use."""
    global _cached
    keyset = _cached
    if keyset is None:
        with _cache_lock:
            if _cached is None:
                _cached = keyset_load()
            keyset = _cached
    return keyset


def keys_reset_cache() -> None:
    global _cached
    with _cache_lock:
        _cached = None


@receiver(setting_changed)
def _reset_on_setting_change(*, setting, **kwargs):
    if setting in KEY_SETTINGS:
        keys_reset_cache()


def keys_check_for_startup() -> KeySet:
    """Load the key set now, so a bad one stops the process with a clear ImproperlyConfigured."""
    keys_reset_cache()
    return keys_get()
