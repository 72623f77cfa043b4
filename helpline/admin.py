"""The admin configures lines and staff; it never shows anyone's second factor."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpline.models import CannedResponse, ChannelEndpoint, Helpline, Staff
from helpline.services.twofactor import twofactor_reset

# django-otp's device pages would let an administrator read a colleague's key or add a
# device for them, and so log in as them. Resetting 2FA is the only device action offered.
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


@admin.register(Helpline)
class HelplineAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "wait_alert_seconds"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "team", "capacity", "presence"]
    list_filter = ["role", "lines", "presence"]
    search_fields = ["user__username"]
    filter_horizontal = ["lines"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "line", "language"]
    list_filter = ["line", "language"]


@admin.register(ChannelEndpoint)
class ChannelEndpointAdmin(admin.ModelAdmin):
    """Addresses only: provider secrets are sealed and set through the deployment, never shown."""

    list_display = ["line", "channel", "address", "active"]
    list_filter = ["channel", "active"]
    fields = ["line", "channel", "address", "provider_account", "active"]
    readonly_fields = ["line", "channel", "address", "provider_account"]

    def has_add_permission(self, request):
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
        return TemplateResponse(request, "helpline/admin/twofactor_reset_confirmation.html", context)
    for user in users:
        twofactor_reset(actor=request.user, user=user)
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
    # registered by an app listed before helpline) instead of replacing it.
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
