"""Audited write paths over the vault's keys: destroying a record's data key, rotating the KEKs."""

from django.db import transaction

from helpline import actions
from helpline.audit.services import audit_record
from helpline.vault.models import DataKey
from helpline.vault.services import RotationResult, datakey_shred, datakeys_rotate


@transaction.atomic
def data_key_destroy(*, data_key: DataKey, actor=None, reason: str = "") -> DataKey:
    """Crypto-shred one record's content; audited the first time only (a second call changes nothing)."""
    already = DataKey.objects.select_for_update().filter(pk=data_key.pk, shredded_at__isnull=False).exists()
    destroyed = datakey_shred(data_key=data_key)
    if not already:
        audit_record(
            action=actions.VAULT_SHRED,
            actor=actor,
            record=destroyed,
            reason=reason,
            details={"data_key": str(destroyed.pk)},
        )
    return destroyed


def keys_rotate(*, batch_size: int = 500, max_batches: int | None = None, actor=None) -> RotationResult:
    """Re-wrap live data keys under the newest KEK (batches commit one by one), audited once at the end."""
    result = datakeys_rotate(batch_size=batch_size, max_batches=max_batches)
    audit_record(
        action=actions.VAULT_KEYS_ROTATED,
        actor=actor,
        details={
            "kek_id": result.kek_id,
            "rewrapped": result.rewrapped,
            "failed": len(result.failed),
            "remaining": result.remaining,
        },
    )
    return result
