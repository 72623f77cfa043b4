"""The encryption vault: per-record data keys, encrypted fields, blind indexes, rotation, crypto-shredding.

Public API (see docs/DATA_PROTECTION.md for the why):

- helpline.vault.services: datakey_create, seal, unseal, datakey_shred, datakeys_rotate
- helpline.vault.fields: EncryptedTextField(data_key="data_key"), BlindIndexField
- helpline.vault.models: DataKey, ProtectedRecord (abstract: UUID pk + data_key)
- helpline.vault.blind_index: blind_index(kind=..., value=..., default_region=None), IdentifierKind
- helpline.vault.values: Sealed, Shredded, SHREDDED
- helpline.vault.errors: VaultError and its subclasses
- helpline.vault.keys: keys_get, keys_reset_cache, kek_entry_generate, keyset_generate
- commands: keys_generate, keys_rotate
"""
