"""The audit trail: an append-only table of events, and an append-only chain of keyed links over them.

Events are written only by ``helpline.audit.services.audit_record``, without any
lock: many transactions add events at once. The linker
(``helpline.audit.linker.audit_link_pending``) then gives each committed event one
``AuditLink``: its position in the one chain, the hash of the link before it, and a
keyed hash over all of that and the event. Nothing in the ORM can change or remove
either kind of row (this module refuses), and on PostgreSQL a trigger refuses UPDATE
and DELETE on both tables from any client (migrations 0002 and 0003).
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
        # Events come only from audit_record, links only from the linker.
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

    def __str__(self):
        return f"#{self.pk} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            _refuse("changing an event")
        # Set by audit_record, the only writer of events.
        if not getattr(self, "_from_audit_record", False):
            _refuse("adding an event outside audit_record()")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse("deleting an event")


class AuditLink(models.Model):
    """An event's place in the one chain: position 1, 2, 3, ... without gaps, each linked to the one before."""

    position = models.BigIntegerField(_("position"), primary_key=True)
    # One link per event (unique): an event can never stand at two places in the chain.
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="link", verbose_name=_("event"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)
    linked_at = models.DateTimeField(_("linked"))

    objects = AuditEventManager()

    class Meta:
        verbose_name = _("audit link")
        verbose_name_plural = _("audit links")
        ordering = ["position"]
        base_manager_name = "objects"
        default_manager_name = "objects"
        constraints = [
            # Two links can never claim the same predecessor: a fork is impossible even if
            # the linker's lock were bypassed (the second linker fails instead).
            models.UniqueConstraint(fields=["prev_hash"], name="audit_link_prev_hash_unique"),
            models.UniqueConstraint(fields=["hash"], name="audit_link_hash_unique"),
        ]

    def __str__(self):
        return f"@{self.position} #{self.event_id}"

    def save(self, *args, **kwargs):
        _refuse("saving a link outside the linker")

    def delete(self, *args, **kwargs):
        _refuse("deleting a link")
