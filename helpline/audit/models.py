"""The audit trail: an append-only, hash-chained table of events.

Rows are written only by ``helpline.audit.services.audit_record``. Nothing in
the ORM can change or remove one (this module refuses), and on PostgreSQL a
trigger refuses UPDATE and DELETE from any client (migration 0002).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event, or to add one outside the chain."""


def _refuse(what: str):
    raise AppendOnlyError(f"The audit trail is append-only: {what} is refused. Use audit_record() to add events.")


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse("update()")

    def delete(self):
        _refuse("delete()")

    def bulk_update(self, objs, fields, batch_size=None):
        _refuse("bulk_update()")

    def bulk_create(self, objs, *args, **kwargs):
        # Each event must be linked to its predecessor under the chain lock.
        _refuse("bulk_create()")

    # The private fast path that Collector uses for deletes.
    def _raw_delete(self, using):
        _refuse("delete()")

    # Django's internal path for saving existing rows and for update().
    def _update(self, values):
        _refuse("update()")


AuditEventManager = models.Manager.from_queryset(AuditEventQuerySet)


class AuditEvent(models.Model):
    """One thing that happened, who did it, to whom or what, from where; never the content itself."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(_("when"))
    action = models.CharField(_("action"), max_length=64)
    # Plain values, not foreign keys: deleting or renaming a user must never touch the trail.
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    subject_id = models.BigIntegerField(_("subject id"), null=True, blank=True)
    subject_username = models.CharField(_("subject"), max_length=150, blank=True)
    record_type = models.CharField(_("record type"), max_length=100, blank=True)
    record_id = models.CharField(_("record id"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    objects = AuditEventManager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        # Django uses the base manager for some internal writes; make it the refusing one.
        base_manager_name = "objects"
        default_manager_name = "objects"
        # Plain indexes and constraints rather than db_index/unique=True, which on
        # PostgreSQL would add a second LIKE index per column that nobody uses.
        indexes = [
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(fields=["created_at"], name="audit_created_idx"),
            models.Index(fields=["record_type", "record_id"], name="audit_record_idx"),
        ]
        constraints = [
            # Two events can never claim the same predecessor: a fork is impossible
            # even if the chain lock were bypassed (the second writer fails instead).
            models.UniqueConstraint(fields=["prev_hash"], name="audit_prev_hash_unique"),
            models.UniqueConstraint(fields=["hash"], name="audit_hash_unique"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse("changing an event")
        # Set by audit_record once the event is linked under the chain lock.
        if not getattr(self, "_linked", False):
            _refuse("adding an event outside audit_record()")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse("deleting an event")
