"""The cases app's admin pages: taxonomy versions (read-only, published through the service), line settings,
and each line's retention policy.

Like helpline's admin, every change goes through services (audited); nothing here
shows case content: administrators configure, they do not read cases.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cases.errors import CaseError
from cases.models import Category, LineCaseSettings, RetentionPolicy, TaxonomyVersion
from cases.services.retention import retention_policy_set
from cases.services.taxonomy import (
    line_regions_set,
    taxonomy_document_parse,
    taxonomy_import,
    taxonomy_import_check,
    taxonomy_publish,
)


def _staff(request):
    # A superuser made at installation may have no staff profile; the audit then names no actor.
    return getattr(request.user, "staff", None)


class CategoryInline(admin.TabularInline):
    model = Category
    fields = ["code", "labels", "national"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TaxonomyImportForm(forms.ModelForm):
    """Upload a taxonomy file; it is validated and imported by the service, never edited here."""

    document = forms.FileField(label=_("Taxonomy file (YAML or JSON)"))

    class Meta:
        model = TaxonomyVersion
        fields = []

    def clean_document(self):
        upload = self.cleaned_data["document"]
        try:
            document = taxonomy_document_parse(upload.read().decode("utf-8"))
            taxonomy_import_check(document)
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        except CaseError as error:
            raise forms.ValidationError(str(error)) from None
        return document


@admin.register(TaxonomyVersion)
class TaxonomyVersionAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "active", "imported_at", "published_at"]
    readonly_fields = ["code", "title", "active", "imported_at", "imported_by", "published_at", "published_by"]
    inlines = [CategoryInline]
    actions = ["publish"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TaxonomyImportForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["document"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = taxonomy_import(actor=_staff(request), document=form.cleaned_data["document"])
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass

    @admin.action(description=_("Publish: classify new contacts under this version"))
    def publish(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one version to publish."), messages.ERROR)
            return
        version = queryset.get()
        try:
            taxonomy_publish(actor=_staff(request), version=version)
        except CaseError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, _("%(code)s is now the published version.") % {"code": version.code})


class RegionsField(forms.CharField):
    """One region a line: ``CODE Label`` (the code is everything before the first space)."""

    widget = forms.Textarea(attrs={"rows": 10})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{item['code']} {item.get('label', '')}".strip() for item in value)
        return value

    def to_python(self, value):
        rows = []
        for line in (value or "").splitlines():
            line = line.strip()
            if line:
                code, _sep, label = line.partition(" ")
                rows.append({"code": code, "label": label.strip()})
        return rows


class LineCaseSettingsForm(forms.ModelForm):
    regions = RegionsField(
        label=_("Regions"), required=False, help_text=_("One a line: the code, a space, then the name.")
    )

    class Meta:
        model = LineCaseSettings
        fields = ["line", "regions"]


@admin.register(LineCaseSettings)
class LineCaseSettingsAdmin(admin.ModelAdmin):
    form = LineCaseSettingsForm
    list_display = ["line"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            saved = line_regions_set(actor=_staff(request), line=form.cleaned_data["line"], regions=obj.regions)
        except CaseError as error:
            messages.error(request, str(error))
            return
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False


class RetentionPolicyForm(forms.ModelForm):
    reason = forms.CharField(label=_("Why (kept in the audit trail)"), max_length=500, required=False)

    class Meta:
        model = RetentionPolicy
        fields = ["line", "closed_case_days", "transcript_days"]


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    """How long each line keeps closed cases and unlinked transcripts; saved by retention_policy_set (audited)."""

    form = RetentionPolicyForm
    list_display = ["line", "closed_case_days", "transcript_days", "updated_at"]
    readonly_fields = ["updated_at", "updated_by"]

    def get_readonly_fields(self, request, obj=None):
        # The line of an existing policy stays its line.
        return [*self.readonly_fields, "line"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            saved = retention_policy_set(
                actor=request.user,
                line=obj.line,
                closed_case_days=form.cleaned_data["closed_case_days"],
                transcript_days=form.cleaned_data["transcript_days"],
                reason=form.cleaned_data.get("reason", ""),
            )
        except CaseError as error:
            messages.error(request, str(error))
            return
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
