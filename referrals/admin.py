"""The agency directory in the admin; every save goes through referrals.services.agencies.

Regions, languages, needs and fields are typed as plain lists ("KE-047, KE-001");
delivery settings and secrets as one ``name = value`` per line. Secrets are
write-only: the box is always empty, typing a value replaces that one secret,
and the view is marked so that Django's error reports leave them out. Agencies are
never deleted (referrals point at them): switch one off instead. **Preview** (htmx, the unsaved
form) shows what the agency would receive for the demo case (referrals.demo), in its transport's
own format (its ``render()``), cut to the fields the form selects; nothing real is in it, and
its secrets are never read. API keys are made, rotated
and revoked here through referrals.services.api_keys; a new secret is shown once.
"""

import logging
import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from helpline.admin.lines import adopt
from helpline.models import Role
from referrals.demo import demo_document
from referrals.document_fields import SHAREABLE_FIELDS, field_paths_expand
from referrals.models import Agency, AgencyMembership, ApiKey, ApiScope, OutcomeKind
from referrals.services.agencies import PLAIN_FIELDS, agency_clean, agency_create, agency_membership_set, agency_update
from referrals.services.agency_side import outcome_kind_save
from referrals.services.api_keys import api_key_create, api_key_revoke, api_key_rotate
from referrals.transports import DeliveryError, DeliveryRequest, transport_get, transports_registered

logger = logging.getLogger(__name__)

REASON_HELP = _("Kept in the audit trail with who made the change.")
# Stands for a secret kept on the agency when its configuration is checked (long enough for any
# length rule, so a kept signing secret passes like the one stored), without reading the real one.
KEPT_SECRET = "kept-" + "k" * 59


class ListField(forms.CharField):
    """Items separated by commas or spaces <-> a list."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [item for item in str(value or "").replace(",", " ").replace(";", " ").split() if item]

    def has_changed(self, initial, data):
        return self.to_python(data) != (initial or [])


class PairsField(forms.CharField):
    """One ``name = value`` per line <-> a dict."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{key} = {item}" for key, item in value.items())
        return value

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        pairs = {}
        for number, line in enumerate(str(value or "").splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, item = line.partition("=")
            if not sep or not key.strip():
                raise ValidationError(_("Line %(number)d: write name = value.") % {"number": number})
            pairs[key.strip()] = item.strip()
        return pairs

    def has_changed(self, initial, data):
        return self.to_python(data) != (initial or {})


class AgencyForm(forms.ModelForm):
    regions = ListField(label=_("Regions"), required=False, help_text=_("Region codes it covers, such as KE-047."))
    languages = ListField(label=_("Languages"), required=False, help_text=_("Such as en, sw."))
    needs = ListField(
        label=_("Needs served"),
        required=False,
        help_text=_("Taxonomy codes it helps with (a code covers the codes below it); empty: any need."),
    )
    fields = forms.MultipleChoiceField(
        label=_("Fields it may receive"),
        required=False,
        choices=[(path, label) for path, (label, _protected) in SHAREABLE_FIELDS.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Nothing else about a case ever reaches this agency."),
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    transport = forms.ChoiceField(label=_("Delivery method"))
    transport_config = PairsField(
        label=_("Delivery settings"), required=False, help_text=_("One name = value per line, such as url = https://…")
    )
    secrets = PairsField(
        label=_("Replace secrets"),
        required=False,
        help_text=_(
            "One name = value per line (such as signing_secret = …). Stored encrypted, never shown again; "
            "secrets not named here are kept."
        ),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500, help_text=REASON_HELP)

    class Meta:
        model = Agency
        fields = [
            "code",
            "name",
            "kind",
            "national",
            "description",
            "phone",
            "email",
            "website",
            "address",
            "hours",
            "notice_email",
            "active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transport"].choices = [(t.name, t.label) for t in transports_registered()]
        if self.instance.pk is not None:
            for name in ("regions", "languages", "needs", "fields", "transport", "transport_config"):
                self.initial[name] = getattr(self.instance, name)
            secret_names = ", ".join(self._secret_names()) or "-"
            self.fields["secrets"].help_text = _(
                "Stored encrypted, never shown again; secrets not named here are kept. This method's secrets: %(names)s"
            ) % {"names": secret_names}
        self.fields["secrets"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def _secret_names(self):
        for transport in transports_registered():
            if transport.name == self.instance.transport:
                return list(transport.secret_fields)
        return []

    def clean(self):
        cleaned = super().clean()
        values = {key: cleaned.get(key) for key in PLAIN_FIELDS if key in cleaned}
        secrets = dict(cleaned.get("secrets") or {})
        if self.instance.pk is not None and values.get("transport") == self.instance.transport:
            # Secrets not typed again are kept: count them as present without reading them here.
            secrets = {name: KEPT_SECRET for name in self._secret_names()} | {k: v for k, v in secrets.items() if v}
        try:
            agency_clean(values, secrets=secrets)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    form = AgencyForm
    list_display = ["name", "code", "kind", "national", "transport", "active"]
    list_filter = ["kind", "national", "active", "transport"]
    search_fields = ["name", "code"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "description", "active"]}),
        (_("Where and for whom"), {"fields": ["regions", "national", "languages", "needs"]}),
        (_("Contact"), {"fields": ["phone", "email", "website", "address", "hours"]}),
        (_("Delivery"), {"fields": ["transport", "transport_config", "secrets", "fields", "notice_email"]}),
        (_("Why"), {"fields": ["reason"]}),
    ]

    @method_decorator(sensitive_post_parameters("secrets"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        preview = self.admin_site.admin_view(never_cache(require_POST(self.preview_view)))
        return [path("preview/", preview, name="referrals_agency_preview"), *super().get_urls()]

    @method_decorator(sensitive_post_parameters("secrets"))
    def preview_view(self, request):
        """The sample for the form as it stands (htmx): the demo case's document, cut to the fields
        chosen, rendered by the chosen transport. A configuration it cannot use is a message, never a 500."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        return TemplateResponse(request, "admin/referrals/agency/preview.html", _preview(request))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {key: data[key] for key in PLAIN_FIELDS if key in data}
        if change:
            saved = agency_update(
                actor=request.user,
                agency=obj,
                secrets=data.get("secrets") or {},
                reason=data.get("reason", ""),
                **values,
            )
        else:
            saved = agency_create(
                actor=request.user, secrets=data.get("secrets") or {}, reason=data.get("reason", ""), **values
            )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        """Agencies have nothing related to save here."""

    def has_delete_permission(self, request, obj=None):
        return False


def _preview(request) -> dict:
    post = request.POST
    try:
        transport = transport_get(str(post.get("transport", "")))
    except LookupError:
        return {"problems": [_("Choose a delivery method.")]}
    try:
        config = PairsField().to_python(post.get("transport_config", ""))
        typed = PairsField().to_python(post.get("secrets", ""))
    except ValidationError as error:
        return {"problems": error.messages}
    # Secrets kept on the agency count as present (never read); typed ones are checked, never rendered.
    try:
        agency = Agency.objects.filter(pk=uuid.UUID(str(post.get("agency", "")))).only("transport").first()
    except ValueError:
        agency = None
    kept = agency is not None and agency.transport == transport.name
    checked = {name: KEPT_SECRET for name in transport.secret_fields if kept} | {k: v for k, v in typed.items() if v}
    problems = transport.validate_config(config, checked)
    if problems:
        return {"problems": problems, "transport": transport}
    secrets = {name: "preview" for name in checked}
    fields = sorted(field_paths_expand(post.getlist("fields")))
    document = demo_document(agency_code=post.get("code", ""), agency_name=post.get("name", ""), fields=fields)
    request_ = DeliveryRequest(document=document, idempotency_key="preview", config=config, secrets=secrets)
    try:
        rendered = transport.render(request_)
    except DeliveryError as error:
        return {"problems": [error.reason], "transport": transport}
    except Exception:  # noqa: BLE001 - a sample that cannot be built is a message on the page, not a 500
        logger.exception("Agency preview: the %s transport could not render the demo case", transport.name)
        return {"problems": [_("This delivery method could not build a sample. Tell a developer.")]}
    return {
        "transport": transport,
        "rendered": rendered,
        "body": rendered.body.decode("utf-8", "replace"),
        "fields": [SHAREABLE_FIELDS[path][0] for path in fields],
    }


class MembershipForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500, help_text=REASON_HELP)

    class Meta:
        model = AgencyMembership
        fields = ["user", "agency"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = get_user_model().objects.filter(staff__role=Role.AUTHORITY)


@admin.register(AgencyMembership)
class AgencyMembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "agency"]
    list_select_related = ["user", "agency"]
    list_filter = ["agency"]

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = agency_membership_set(
            actor=request.user, user=data.get("user") or obj.user, agency=data["agency"], reason=data.get("reason", "")
        )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        """Nothing related."""

    def delete_model(self, request, obj):
        agency_membership_set(actor=request.user, user=obj.user, agency=None)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user"):
            agency_membership_set(actor=request.user, user=membership.user, agency=None)


@admin.register(OutcomeKind)
class OutcomeKindAdmin(admin.ModelAdmin):
    """The list of progress updates and outcomes agencies record (a final one closes the referral).
    Entries are switched off, never deleted: past events point at them."""

    list_display = ["label", "code", "final", "active", "order"]
    list_filter = ["final", "active"]
    fields = ["code", "label", "final", "active", "order"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = outcome_kind_save(
            actor=request.user,
            kind=obj if change else None,
            code=data.get("code") or obj.code,
            label=data["label"],
            final=data["final"],
            active=data["active"],
            order=data["order"],
        )
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        """Nothing related."""

    def has_delete_permission(self, request, obj=None):
        return False


# --- the referral API's keys ------------------------------------------------------------------------


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple, initial=[ApiScope.READ]
    )

    class Meta:
        model = ApiKey
        fields = ["agency", "name", "scopes", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """API keys are made here (the secret is shown once, on the page that answers the form, never
    stored), rotated with 24 hours of overlap, or revoked; nothing else about a key changes."""

    form = ApiKeyForm
    list_display = ["name", "agency", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_select_related = ["agency"]
    list_filter = ["agency"]
    actions = ["rotate", "revoke"]
    readonly_fields = [
        "agency",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "replaced_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        key, secret = api_key_create(
            actor=request.user,
            agency=data["agency"],
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
        )
        adopt(obj, key)
        obj._secret = secret

    def save_related(self, request, form, formsets, change):
        """Nothing related."""

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets_page(request, [(obj, obj._secret)])

    @admin.action(description=_("Rotate the selected keys (the old ones keep working for 24 hours)"))
    def rotate(self, request, queryset):
        made = []
        for key in queryset.select_related("agency"):
            try:
                made.append(api_key_rotate(actor=request.user, key=key))
            except ValidationError as error:
                self.message_user(request, f"{key.prefix}: {' '.join(error.messages)}", messages.WARNING)
        if made:
            return self._secrets_page(request, made)
        return None

    @admin.action(description=_("Revoke the selected keys now"))
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(actor=request.user, key=key)
        self.message_user(request, _("Revoked: the keys are refused from now on."))

    def _secrets_page(self, request, made):
        response = TemplateResponse(
            request,
            "admin/referrals/apikey/secret.html",
            {
                **self.admin_site.each_context(request),
                "made": [(ApiKey.objects.select_related("agency").get(pk=key.pk), secret) for key, secret in made],
                "back": reverse("admin:referrals_apikey_changelist"),
                "title": _("Copy the secret now"),
            },
        )
        patch_cache_control(response, no_store=True)
        return response
