"""The audit trail in the admin: read-only, for everyone including superusers."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from helpline.audit.actions import action_label, actions_registered
from helpline.audit.models import AuditEvent


class ActionFilter(admin.SimpleListFilter):
    """Lists the known actions from the constants, so the sidebar costs no scan of the table."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return list(actions_registered().items())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


class RecordTypeFilter(admin.SimpleListFilter):
    """The kinds of record events point at; events about no record are listed as such."""

    title = _("record type")
    parameter_name = "record_type"

    def lookups(self, request, model_admin):
        kinds = AuditEvent.objects.order_by("record_type").values_list("record_type", flat=True).distinct()
        return [(kind or "-", kind or _("no record")) for kind in kinds]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(record_type="" if self.value() == "-" else self.value())
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "action_shown",
        "actor_username",
        "subject_username",
        "record_type",
        "record_id",
        "ip_address",
    )
    list_filter = (ActionFilter, RecordTypeFilter)
    date_hierarchy = "created_at"
    search_fields = ("actor_username", "subject_username")
    search_help_text = _("Search by the username of the actor or the subject.")
    ordering = ("-id",)
    # The table grows to millions of rows: skip the second COUNT(*) of the whole table.
    show_full_result_count = False
    actions = None
    fields = (
        "id",
        "created_at",
        ("action_shown", "action"),
        ("actor_id", "actor_username"),
        ("subject_id", "subject_username"),
        ("record_type", "record_id"),
        "reason",
        "details",
        "ip_address",
        "chain_position",
        "chain_prev_hash",
        "chain_hash",
    )
    readonly_fields = (
        "id",
        "created_at",
        "action_shown",
        "action",
        "actor_id",
        "actor_username",
        "subject_id",
        "subject_username",
        "record_type",
        "record_id",
        "reason",
        "details",
        "ip_address",
        "chain_position",
        "chain_prev_hash",
        "chain_hash",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("link")

    def _link(self, event):
        return getattr(event, "link", None)

    @admin.display(description=_("position in the chain"))
    def chain_position(self, event):
        link = self._link(event)
        return link.position if link else _("not linked yet")

    @admin.display(description=_("previous hash"))
    def chain_prev_hash(self, event):
        link = self._link(event)
        return link.prev_hash if link else "-"

    @admin.display(description=_("hash"))
    def chain_hash(self, event):
        link = self._link(event)
        return link.hash if link else "-"

    @admin.display(description=_("action"), ordering="action")
    def action_shown(self, event):
        return action_label(event.action)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
