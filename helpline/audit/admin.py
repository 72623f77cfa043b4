"""The audit trail in the admin: read-only, for everyone including superusers.

Also adds "Reset two-factor authentication" to the User admin, since a reset is
the audited administrative act most often needed (a lost phone).
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpline import twofactor
from helpline.audit import actions
from helpline.audit.models import AuditEvent


class ActionFilter(admin.SimpleListFilter):
    """Lists the known actions from the constants, so the sidebar costs no scan of the table."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return list(actions.LABELS.items())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "action",
        "actor_username",
        "subject_username",
        "record_type",
        "record_id",
        "ip_address",
    )
    list_filter = (ActionFilter, ("record_type", admin.AllValuesFieldListFilter))
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
        "action",
        ("actor_id", "actor_username"),
        ("subject_id", "subject_username"),
        ("record_type", "record_id"),
        "reason",
        "details",
        "ip_address",
        "prev_hash",
        "hash",
    )
    readonly_fields = (
        "id",
        "created_at",
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
        "prev_hash",
        "hash",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Reset two-factor authentication"), permissions=["change"])
def reset_two_factor(modeladmin, request, queryset):
    """Remove the selected users' devices after a confirmation page; each reset is audited as 2fa.reset."""
    users = list(queryset.exclude(pk=request.user.pk).order_by("username"))
    if queryset.filter(pk=request.user.pk).exists():
        # Resetting oneself would end one's own verified session mid-task.
        modeladmin.message_user(
            request, _("Your own two-factor authentication cannot be reset from here."), messages.WARNING
        )
    if not users:
        return None
    if request.POST.get("confirm") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": _("Reset two-factor authentication?"),
            "opts": modeladmin.model._meta,
            "users": users,
            "action_name": "reset_two_factor",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "audit/admin/twofactor_reset_confirmation.html", context)
    for user in users:
        twofactor.twofactor_reset(actor=request.user, user=user)
    modeladmin.message_user(
        request,
        ngettext(
            "Two-factor authentication reset for %(count)d user; they enrol again at their next login.",
            "Two-factor authentication reset for %(count)d users; they enrol again at their next login.",
            len(users),
        )
        % {"count": len(users)},
        messages.SUCCESS,
    )
    return None


def _add_reset_action_to_user_admin(site: admin.AdminSite) -> None:
    # Extends whichever User admin is registered (Django's, or a project one
    # registered by an app listed before helpline.audit) instead of replacing it.
    User = get_user_model()
    if not site.is_registered(User):
        return
    base = type(site.get_model_admin(User))
    if reset_two_factor in (base.actions or ()):
        return
    user_admin = type(base.__name__, (base,), {"actions": [*(base.actions or ()), reset_two_factor]})
    site.unregister(User)
    site.register(User, user_admin)


_add_reset_action_to_user_admin(admin.site)
