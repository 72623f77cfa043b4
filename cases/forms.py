"""Forms of the cases pages: they parse and check shape; the services decide (and explain refusals)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import (
    ActionTaken,
    AgeBand,
    CallerType,
    CallType,
    ChildWants,
    Gender,
    PersonRole,
    Relationship,
    RiskLevel,
)
from cases.models.choices import OFFLINE_CHANNELS, ContactChannel
from cases.services.wrapups import MAX_AGE, MAX_SUMMARY_LENGTH, WrapupValues

BLANK = [("", "—")]


def _regions(regions) -> list[tuple[str, str]]:
    return BLANK + [(item["code"], item.get("label") or item["code"]) for item in regions]


class WrapupForm(forms.Form):
    """The wrap-up's fields; categories are checked against the taxonomy by the service."""

    call_type = forms.ChoiceField(
        label=_("Call type"), choices=CallType.choices, required=False, widget=forms.RadioSelect
    )
    caller_type = forms.ChoiceField(
        label=_("Who contacted the line"), choices=BLANK + CallerType.choices, required=False
    )
    age_band = forms.ChoiceField(label=_("Child's age band"), choices=BLANK + AgeBand.choices, required=False)
    age = forms.IntegerField(label=_("Age (if told)"), min_value=0, max_value=MAX_AGE, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=BLANK + Gender.choices, required=False)
    region = forms.ChoiceField(label=_("Region"), choices=BLANK, required=False)
    categories = forms.MultipleChoiceField(label=_("Categories"), choices=[], required=False)
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=BLANK + RiskLevel.choices, required=False)
    child_wants = forms.MultipleChoiceField(
        label=_("What the child wants"), choices=ChildWants.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    actions_taken = forms.MultipleChoiceField(
        label=_("Actions taken"), choices=ActionTaken.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    summary = forms.CharField(
        label=_("Summary"), required=False, max_length=MAX_SUMMARY_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, regions=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _regions(regions)
        self.fields["categories"].choices = [(category.code, category.label()) for category in categories]

    def values(self) -> WrapupValues:
        data = self.cleaned_data
        return WrapupValues(**{name: data.get(name) for name in WrapupValues.__dataclass_fields__})


class ContactLogForm(WrapupForm):
    channel = forms.ChoiceField(
        label=_("How the contact came"),
        choices=[(value, ContactChannel(value).label) for value in OFFLINE_CHANNELS],
        widget=forms.RadioSelect,
    )
    occurred_at = forms.DateTimeField(
        label=_("When"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    line = forms.TypedChoiceField(label=_("Line"), coerce=int, choices=[])
    counsellor = forms.TypedChoiceField(label=_("Whose contact it was"), coerce=int, choices=[])
    caller_phone = forms.CharField(
        label=_("Caller's number (optional, never shown again)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )

    reference = forms.CharField(label=_("Link to the case with reference (optional)"), required=False, max_length=20)

    def __init__(self, *args, lines=(), colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [(line.pk, line.name) for line in lines]
        self.fields["counsellor"].choices = [
            (staff.pk, staff.user.get_full_name() or staff.user.get_username()) for staff in colleagues
        ]
        self.order_fields(["line", "channel", "occurred_at", "counsellor", "caller_phone"])


class PersonForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=PersonRole.choices)
    relationship = forms.ChoiceField(
        label=_("Relationship to the child"), choices=BLANK + Relationship.choices, required=False
    )
    age_band = forms.ChoiceField(label=_("Age band"), choices=BLANK + AgeBand.choices, required=False)
    age = forms.IntegerField(label=_("Age"), min_value=0, max_value=MAX_AGE, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=BLANK + Gender.choices, required=False)
    region = forms.ChoiceField(label=_("Region"), choices=BLANK, required=False)
    is_caregiver = forms.BooleanField(label=_("Is a caregiver of the child"), required=False)
    name = forms.CharField(
        label=_("Name"), required=False, max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=40, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    location = forms.CharField(label=_("Where they are"), required=False, max_length=500)
    online_identifiers = forms.CharField(
        label=_("Online identifiers (one a line)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    details = forms.CharField(
        label=_("Other details"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _regions(regions)


class PersonRemoveForm(forms.Form):
    reason = forms.CharField(
        label=_("Why remove this person"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 4}))
    corrects = forms.UUIDField(required=False, widget=forms.HiddenInput)


class FlagForm(forms.Form):
    message = forms.CharField(
        label=_("Message for the counsellor"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(choices=[("in_progress", _("In progress")), ("reopened", _("Reopened"))])
    reason = forms.CharField(label=_("Why"), required=False, max_length=2000)


class FactsForm(forms.Form):
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    categories = forms.MultipleChoiceField(label=_("Categories"), choices=[], required=False)
    platform = forms.CharField(label=_("Online platform or service"), required=False, max_length=40)
    imagery_exists = forms.BooleanField(label=_("Imagery exists"), required=False)
    immediate_danger = forms.BooleanField(label=_("The child is in immediate danger"), required=False)
    occurred_on = forms.DateField(
        label=_("When it happened"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    summary = forms.CharField(
        label=_("What happened"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    urls = forms.CharField(
        label=_("URLs reported (one a line; never open them)"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [(category.code, category.label()) for category in categories]
