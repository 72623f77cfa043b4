"""Keyed hashes of secrets the application must recognise but never store (session keys,
backup codes, the names typed into the login form), and the audit chain's links, which
only a holder of the key set can compute.

``keyed_hash(purpose=..., value=...)`` is HMAC-SHA256, as 64 hex characters, under a key
derived for that purpose from the key set's index key with HKDF-SHA256 (RFC 5869,
info ``helpline.keyed-hash.v1|<purpose>``). So the key is never in the database, each
purpose has its own, and none of them is the index key itself.

Why the index key and not ``SECRET_KEY``: the embedded mode's ``SECRET_KEY`` is public
(it is in the source), while the key set is random per installation and kept out of the
database in both modes; and it adds no key for an operator to manage. Changing the index
key (see docs/DATA_PROTECTION.md) also ends every session, voids every backup code and
resets login throttling, which is harmless beside what it does to blind indexes.
"""

import hashlib
import hmac
from enum import StrEnum
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from helpline.vault.keys import KEY_BYTES, keys_get


class HashPurpose(StrEnum):
    SESSION_KEY = "session-key"
    BACKUP_CODE = "backup-code"
    LOGIN_NAME = "login-name"
    AUDIT_CHAIN = "audit-chain"


@lru_cache(maxsize=16)
def _derived_key(index_key: bytes, purpose: str) -> bytes:
    info = f"helpline.keyed-hash.v1|{purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(index_key)


def keyed_hash(*, purpose: HashPurpose, value: str) -> str:
    """HMAC-SHA256 of ``value`` under the key derived for ``purpose``, as 64 hex characters."""
    key = _derived_key(keys_get().index_key, HashPurpose(purpose).value)
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
