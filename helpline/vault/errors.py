"""What can go wrong in the vault.

Every message names models, fields, primary keys and key ids only: never
ciphertext, plaintext or key material, because these messages reach logs and
error reports.
"""

from django.core.exceptions import ImproperlyConfigured


class VaultError(Exception):
    """Base class: protected content could not be sealed or unsealed."""


class KeyConfigurationError(VaultError, ImproperlyConfigured):
    """The key set is missing or malformed (stops startup in production)."""


class UnknownKekError(VaultError):
    """A data key is wrapped under a KEK that is not configured (removed too early?)."""


class DataKeyUnwrapError(VaultError):
    """A wrapped data key does not open under its KEK: wrong key, or the row was altered."""


class CiphertextInvalidError(VaultError):
    """A stored value is not a vault envelope (truncated, unknown version)."""


class CiphertextMismatchError(VaultError):
    """A value fails authentication: wrong data key, altered, or copied from another row or field."""


class PlaintextRefusedError(VaultError, TypeError):
    """Something other than a sealed value was assigned to or saved in an encrypted field."""


class DataKeyShreddedError(VaultError):
    """Sealing new content under a destroyed data key is impossible."""


class NotSealableError(VaultError):
    """The record cannot be sealed yet: no primary key, no data key, or not an encrypted field."""
