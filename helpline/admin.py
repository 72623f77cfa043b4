"""The admin configures lines and staff; it never shows anyone's second factor."""

from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpline.models import CannedResponse, ChannelEndpoint, Helpline, Staff

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
