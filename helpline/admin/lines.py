"""Lines and their prepared replies in the admin: plain fields, saved through helpline.services.lines.

The line form is a ModelForm with explicit fieldsets: a new field of ``Helpline``
appears once it is added to one of ``HelplineAdmin.fieldsets``.
"""

from zoneinfo import available_timezones

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.utils.translation import gettext_lazy as _

from helpline.admin.line_fields import (
    LanguageListField,
    OpeningExceptionsField,
    PhrasesByLanguageField,
    SurveyField,
    TextByLanguageField,
    WeeklyHoursField,
    languages_for_form,
)
from helpline.models import CannedResponse, Helpline
from helpline.services.lines import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
    helpline_create,
    helpline_update,
)

TIMEZONES = [(name, name) for name in sorted(available_timezones())]


def model_values(form) -> dict:
    """The cleaned values of the form's fields that are fields of its model."""
    names = {field.name for field in form._meta.model._meta.concrete_fields}
    return {name: value for name, value in form.cleaned_data.items() if name in names}


def adopt(obj, saved) -> None:
    """Make the admin's unsaved instance the one a service saved (the admin logs and redirects to it)."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False


# Every field of the line form, in order. A new Helpline field shows once it is listed here.
LINE_FIELDSETS = [
    (None, {"fields": ["name", "slug", "languages", "timezone"]}),
    (_("Web chat"), {"fields": ["chat_display_name", "emergency_number", "quick_exit_url"]}),
    (_("Automatic replies"), {"fields": ["busy_message", "out_of_hours_message", "blocked_message"]}),
    (_("Opening hours"), {"fields": ["opening_hours", "opening_exceptions"]}),
    (_("Risk"), {"fields": ["risk_phrases", "safety_message"]}),
    (_("Waiting times"), {"fields": ["wait_alert_seconds", "reply_amber_seconds", "reply_red_seconds"]}),
    (_("Post-contact survey"), {"fields": ["survey"]}),
    (_("Why"), {"fields": ["reason"]}),
]


class HelplineForm(forms.ModelForm):
    languages = LanguageListField(
        label=_("Languages"),
        help_text=_("Language codes separated by commas, the line's main language first: en, fr, sw."),
    )
    timezone = forms.ChoiceField(label=_("Time zone"), choices=TIMEZONES, initial="UTC")
    # A bare "example.org" means https: quick exit never sends a child to a plain-http page.
    quick_exit_url = Helpline._meta.get_field("quick_exit_url").formfield(assume_scheme="https")
    opening_hours = WeeklyHoursField(
        label=_("Weekly opening hours"),
        required=False,
        help_text=_(
            "Leave every day empty for a line that is always open. Otherwise a day left empty is closed. "
            "A range that closes before it opens runs past midnight; 00:00 to 00:00 is the whole day."
        ),
    )
    opening_exceptions = OpeningExceptionsField(
        label=_("Holidays and closures"),
        required=False,
        help_text=_(
            "Dates when the weekly hours do not apply. Without times the line is closed all day; "
            "with times, those are the hours of the day. To remove one, tick Remove."
        ),
    )
    risk_phrases = PhrasesByLanguageField(
        label=_("Risk phrases"),
        required=False,
        help_text=_(
            "One phrase per line. A message containing one moves the conversation up the queue "
            "and asks the counsellor to confirm the risk. Whole words only; capitals do not matter."
        ),
    )
    safety_message = TextByLanguageField(
        label=_("Safety message for sextortion"),
        required=False,
        help_text=_(
            "Offered to the counsellor when they confirm a sextortion risk, sent only when they click. "
            "For example: do not pay, do not send more, it is not your fault, we can help you get images removed."
        ),
    )
    survey = SurveyField(
        label=_("Post-contact survey"),
        required=False,
        help_text=_(
            "Two or three short questions the child may answer after the conversation. Each needs its text "
            "in the line's main language and two to nine choices, shown as written in every language. "
            "Save and continue editing to add more questions."
        ),
    )
    webchat = forms.BooleanField(
        label=_("Open a web chat page for this line"),
        required=False,
        initial=True,
        help_text=_("At /chat/<slug>/. It can be switched off later under Channel endpoints."),
    )
    reason = forms.CharField(
        label=_("Reason for this change"),
        required=False,
        max_length=500,
        help_text=_("Optional; kept in the audit trail with the names of the fields you changed."),
    )

    class Meta:
        model = Helpline
        fields = [*flatten_fieldsets(LINE_FIELDSETS), "webchat"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        languages = languages_for_form(form=self)
        for name in ("risk_phrases", "safety_message", "survey"):
            if name in self.fields:
                self.fields[name].widget.languages = languages
        if "survey" in self.fields:
            typed = self.data.get(self.add_prefix("languages")) if self.is_bound else None
            main = LanguageListField().to_python(typed) if typed is not None else list(self.instance.languages or [])
            self.fields["survey"].default_language = (main or languages)[0]
        if self.instance.pk:
            self.fields.pop("webchat", None)

    def clean(self):
        cleaned = super().clean()
        amber, red = cleaned.get("reply_amber_seconds"), cleaned.get("reply_red_seconds")
        if amber is not None and red is not None and red <= amber:
            self.add_error("reply_red_seconds", _("Red comes after amber: give more seconds than for amber."))
        return cleaned


@admin.register(Helpline)
class HelplineAdmin(admin.ModelAdmin):
    form = HelplineForm
    list_display = ["name", "slug", "timezone", "wait_alert_seconds"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = LINE_FIELDSETS

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        first, *rest = self.fieldsets
        return [(first[0], {"fields": [*first[1]["fields"], "webchat"]}), *rest]

    def get_prepopulated_fields(self, request, obj=None):
        # The slug is in the chat's address: once people use it, it stays.
        return self.prepopulated_fields if obj is None else {}

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        values = model_values(form)
        reason = form.cleaned_data.get("reason", "")
        if change:
            helpline_update(actor=request.user, line=obj, values=values, reason=reason)
        else:
            saved = helpline_create(
                actor=request.user, values=values, webchat=form.cleaned_data.get("webchat", False), reason=reason
            )
            adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        """Everything was saved by the service."""

    def has_delete_permission(self, request, obj=None):
        # Conversations and statistics belong to a line; a line is never deleted from here.
        return False


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["line", "language", "category", "title", "body"]

    def clean(self):
        cleaned = super().clean()
        line, language = cleaned.get("line"), cleaned.get("language")
        if line is not None and language and line.languages and language not in line.languages:
            self.add_error(
                "language",
                _("%(line)s works in %(languages)s; choose one of them.")
                % {"line": line.name, "languages": ", ".join(line.languages)},
            )
        return cleaned


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    form = CannedResponseForm
    list_display = ["title", "category", "line", "language"]
    list_filter = ["line", "language", "category"]
    search_fields = ["title"]

    def save_model(self, request, obj, form, change):
        values = model_values(form)
        if change:
            canned_response_update(actor=request.user, response=obj, values=values)
        else:
            adopt(obj, canned_response_create(actor=request.user, values=values))

    def save_related(self, request, form, formsets, change):
        """Everything was saved by the service."""

    def delete_model(self, request, obj):
        canned_response_delete(actor=request.user, response=obj)

    def delete_queryset(self, request, queryset):
        for response in queryset:
            canned_response_delete(actor=request.user, response=response)
