import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Where services keep a DataKey object's unwrapped key for the object's lifetime.
UNWRAPPED_MEMO = "_unwrapped_cipher"


class DataKey(models.Model):
    """One record's 256-bit data key, stored only wrapped under a key-encryption key (KEK).

    Destroying ``wrapped`` (crypto-shredding) makes every field sealed under
    this key unreadable for good, while the rows and their counts remain.
    Rows are never deleted: records point at them with on_delete=PROTECT.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kek_id = models.CharField(_("KEK id"), max_length=64, editable=False)
    # version | nonce | AES-GCM(KEK, data key, AD = this row's id); empty once shredded.
    wrapped = models.BinaryField(_("wrapped key"), editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    rotated_at = models.DateTimeField(_("re-wrapped"), null=True, blank=True, editable=False)
    shredded_at = models.DateTimeField(_("destroyed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("data key")
        indexes = [
            # Rotation looks for live keys not under the newest KEK.
            models.Index(
                fields=["kek_id"], condition=models.Q(shredded_at__isnull=True), name="vault_datakey_live_kek"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(shredded_at__isnull=True) | models.Q(wrapped=b""),
                name="vault_datakey_shredded_is_empty",
            ),
        ]

    def __str__(self):
        return f"DataKey {self.pk} ({'destroyed' if self.is_shredded else self.kek_id})"

    def __getstate__(self):
        # Pickling (a cache, a task argument) never carries the unwrapped key.
        state = super().__getstate__()
        state.pop(UNWRAPPED_MEMO, None)
        return state

    @property
    def is_shredded(self) -> bool:
        return self.shredded_at is not None or not self.wrapped


class ProtectedRecord(models.Model):
    """Base for a record with its own data key: a UUID primary key known before insert, and the key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.ForeignKey(
        DataKey, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("data key")
    )

    class Meta:
        abstract = True
