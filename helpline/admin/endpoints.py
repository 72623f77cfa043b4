"""A line's numbers in the admin, created and changed through helpline.services.endpoints.

The auth token is typed into a password box, sealed by the service and never shown
again, not even after a mistake elsewhere on the form (type it again then); the
view is marked so that Django's error reports leave it out. Changing a number
means creating a new endpoint and switching the old one off: conversations keep
pointing at the endpoint they came through.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters

from helpline.admin.lines import adopt
from helpline.models import ChannelEndpoint
from helpline.services.endpoints import (
    PROVIDER_CHANNELS,
    endpoint_activate,
    endpoint_address_clean,
    endpoint_create,
    endpoint_deactivate,
    endpoint_secret_clean,
    endpoint_token_rotate,
)

SECRET_FIELDS = ("secret", "new_secret")


def _secret_input():
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"})


class EndpointCreateForm(forms.ModelForm):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[(channel.value, channel.label) for channel in PROVIDER_CHANNELS]
    )
    address = forms.CharField(
        label=_("Number"),
        max_length=40,
        help_text=_("The line's number in international format, such as +15551230000 (no “whatsapp:” prefix)."),
    )
    provider_account = forms.CharField(label=_("Account"), max_length=64, help_text=_("Twilio: the Account SID (AC…)."))
    secret = forms.CharField(
        label=_("Auth token"),
        strip=False,
        widget=_secret_input(),
        help_text=_("Twilio: the account's Auth Token. It is stored encrypted and never shown again."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    class Meta:
        model = ChannelEndpoint
        fields = ["line", "channel", "address", "provider_account", "active"]

    def clean(self):
        cleaned = super().clean()
        try:
            if cleaned.get("channel") and "address" in cleaned:
                cleaned["address"] = endpoint_address_clean(channel=cleaned["channel"], address=cleaned["address"])
            if "secret" in cleaned:
                cleaned["secret"] = endpoint_secret_clean(cleaned["secret"])
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


class EndpointChangeForm(forms.ModelForm):
    new_secret = forms.CharField(
        label=_("New auth token"),
        required=False,
        strip=False,
        widget=_secret_input(),
        help_text=_(
            "Only after rotating the token at the provider: webhooks signed with the new token are refused "
            "until it is saved here. Leave empty to keep the current one."
        ),
    )
    reason = forms.CharField(label=_("Reason for this change"), required=False, max_length=500)

    class Meta:
        model = ChannelEndpoint
        fields = ["active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.channel not in PROVIDER_CHANNELS:
            self.fields.pop("new_secret")

    def clean_new_secret(self):
        secret = self.cleaned_data.get("new_secret", "")
        if not secret.strip():
            return ""
        try:
            return endpoint_secret_clean(secret)
        except ValidationError as error:
            raise ValidationError(error.message_dict["secret"]) from None


@admin.action(description=_("Switch on"), permissions=["change"])
def switch_on(modeladmin, request, queryset):
    for endpoint in queryset:
        endpoint_activate(actor=request.user, endpoint=endpoint)
    count = queryset.count()
    modeladmin.message_user(
        request,
        ngettext("%(count)d endpoint on.", "%(count)d endpoints on.", count) % {"count": count},
        messages.SUCCESS,
    )


@admin.action(description=_("Switch off (messages to it are refused)"), permissions=["change"])
def switch_off(modeladmin, request, queryset):
    for endpoint in queryset:
        endpoint_deactivate(actor=request.user, endpoint=endpoint)
    count = queryset.count()
    modeladmin.message_user(
        request,
        ngettext("%(count)d endpoint off.", "%(count)d endpoints off.", count) % {"count": count},
        messages.SUCCESS,
    )


@admin.register(ChannelEndpoint)
class ChannelEndpointAdmin(admin.ModelAdmin):
    list_display = ["line", "channel", "address", "active"]
    list_filter = ["channel", "active", "line"]
    search_fields = ["address"]
    list_select_related = ["line"]
    actions = [switch_on, switch_off]
    readonly_fields = ["line", "channel", "address", "provider_account"]
    fieldsets = [
        (None, {"fields": ["line", "channel", "address", "provider_account", "active"]}),
        (_("Token"), {"fields": ["new_secret"]}),
        (_("Why"), {"fields": ["reason"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["line", "channel", "address", "provider_account", "secret", "active"]}),
        (_("Why"), {"fields": ["reason"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if obj.channel not in PROVIDER_CHANNELS:
            return [self.fieldsets[0], self.fieldsets[2]]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = EndpointCreateForm if obj is None else EndpointChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    @method_decorator(sensitive_post_parameters(*SECRET_FIELDS))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        reason = data.get("reason", "")
        if not change:
            endpoint = endpoint_create(
                actor=request.user,
                line=data["line"],
                channel=data["channel"],
                address=data["address"],
                provider_account=data["provider_account"],
                secret=data["secret"],
                active=data.get("active", True),
                reason=reason,
            )
            adopt(obj, endpoint)
            return
        if data.get("new_secret"):
            endpoint_token_rotate(actor=request.user, endpoint=obj, secret=data["new_secret"], reason=reason)
        if "active" in form.changed_data:
            switch = endpoint_activate if data["active"] else endpoint_deactivate
            switch(actor=request.user, endpoint=obj, reason=reason)

    def save_related(self, request, form, formsets, change):
        """Endpoints have nothing related to save."""

    def has_delete_permission(self, request, obj=None):
        # Conversations point at the endpoint they came through: switch it off instead.
        return False
