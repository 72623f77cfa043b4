"""Staff and user accounts in the admin: every change goes through helpline.services.staff.

- "Add staff member" is one form (user, role, lines, languages, capacity); the new
  person enrols two-factor authentication at their first login. The user list's
  "Add" leads to it too.
- A staff member's role, lines, languages, capacity and team change on their staff
  page, a user's name, e-mail and active flag on their user page, a password on its
  own page; each form has a reason field, and each change is audited.
- Nobody changes their own role or lines: the form says so and nothing is saved,
  and the service refuses again whatever the caller.
- No list is editable in place, nothing is deleted (deactivate the user instead), and
  the only bulk action is resetting two-factor authentication, which asks first.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters

from helpline.admin.line_fields import language_name
from helpline.admin.lines import adopt
from helpline.models import Helpline, Staff
from helpline.services.staff import (
    USER_FIELDS,
    staff_change_refusal,
    staff_create,
    staff_update,
    user_password_set,
    user_update,
)
from helpline.services.twofactor import twofactor_reset

User = get_user_model()

REASON_HELP = _("Kept in the audit trail with who made the change.")
ROLE_HELP = _(
    "Counsellors answer conversations; supervisors watch their lines, read along and reassign; "
    "administrators configure the platform here and read no conversation; authority users work for a "
    "partner agency and see only what is referred to it."
)


def language_choices() -> list[tuple[str, str]]:
    """Every language of a line, then the site's own, named in the manager's language."""
    codes = []
    for languages in Helpline.objects.values_list("languages", flat=True):
        codes += [code for code in languages or [] if code not in codes]
    codes += [code for code, _name in settings.LANGUAGES if code not in codes]
    return [(code, f"{language_name(code)} ({code})") for code in codes]


class StaffFieldsMixin(forms.Form):
    """The profile fields shared by the add and the change form, as checkboxes rather than raw JSON."""

    lines = forms.ModelMultipleChoiceField(
        label=_("Lines"),
        queryset=Helpline.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The lines whose conversations this person answers or supervises."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Conversations in other languages are not offered to them. None ticked: every language."),
    )
    capacity = forms.IntegerField(
        label=_("Capacity"), min_value=1, max_value=20, initial=3, help_text=_("How many conversations at once.")
    )

    def setup_role_and_languages(self, current=()):
        self.fields["role"].help_text = ROLE_HELP
        choices = language_choices()
        known = {code for code, _label in choices}
        choices += [(code, code) for code in current if code not in known]
        self.fields["languages"].choices = choices


class StaffChangeForm(StaffFieldsMixin, forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for this change"),
        required=False,
        max_length=500,
        help_text=_("Needed when the role or lines change. ") + REASON_HELP,
    )

    class Meta:
        model = Staff
        fields = ["role", "lines", "languages", "capacity", "team"]

    actor = None  # set by StaffAdmin.get_form for the request

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_role_and_languages(self.instance.languages or [])

    def clean(self):
        cleaned = super().clean()
        staff = self.instance
        role_changes = "role" in cleaned and cleaned["role"] != staff.role
        old_lines = {line.pk for line in staff.lines.all()}
        lines_change = "lines" in cleaned and {line.pk for line in cleaned["lines"]} != old_lines
        refusal = staff_change_refusal(actor=self.actor, user=staff.user, role_or_lines=role_changes or lines_change)
        if refusal:
            raise ValidationError(refusal)
        if (role_changes or lines_change) and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Say why the role or lines change; the reason is kept in the audit trail."))
        return cleaned


class StaffCreateForm(StaffFieldsMixin, forms.ModelForm):
    """One form for a new staff member: their account and their profile."""

    username = forms.CharField(label=_("User name"), max_length=150, help_text=_("What they type to log in."))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail address"), required=False)
    password1 = forms.CharField(
        label=_("First password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("First password, again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Give it to them in person or by phone. At their first login they set up two-factor authentication."
        ),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500, help_text=REASON_HELP)

    class Meta:
        model = Staff
        fields = ["role", "lines", "languages", "capacity", "team"]

    actor = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_role_and_languages()

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("A user with this name already exists."))
        return username

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first and "username" in cleaned:
            candidate = User(
                username=cleaned["username"], email=cleaned.get("email", ""), first_name=cleaned.get("first_name", "")
            )
            try:
                validate_password(first, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ActorFormMixin:
    """Hand the form the person using it, so it can refuse what they may not do before anything is saved."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})


@admin.action(description=_("Reset two-factor authentication"), permissions=["change"])
def reset_two_factor(modeladmin, request, queryset):
    """Remove the selected people's devices after a confirmation page with a reason; each reset is audited."""
    users = list(
        User.objects.filter(pk__in=modeladmin.users_of(queryset)).exclude(pk=request.user.pk).order_by("username")
    )
    if User.objects.filter(pk__in=modeladmin.users_of(queryset), pk=request.user.pk).exists():
        # Resetting oneself would end one's own verified session mid-task.
        modeladmin.message_user(
            request, _("Your own two-factor authentication cannot be reset from here."), messages.WARNING
        )
    if not users:
        return None
    reason = request.POST.get("reason", "").strip()
    if request.POST.get("confirm") != "yes" or not reason:
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": _("Reset two-factor authentication?"),
            "opts": modeladmin.model._meta,
            "users": users,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "reason": reason,
            "reason_missing": request.POST.get("confirm") == "yes" and not reason,
            "action_name": "reset_two_factor",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "helpline/admin/twofactor_reset_confirmation.html", context)
    for user in users:
        twofactor_reset(actor=request.user, user=user, reason=reason)
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


@admin.register(Staff)
class StaffAdmin(ActorFormMixin, admin.ModelAdmin):
    form = StaffChangeForm
    add_form = StaffCreateForm
    list_display = ["user", "full_name", "role", "lines_shown", "team", "capacity", "presence"]
    list_filter = ["role", "lines", "presence"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    actions = [reset_two_factor]
    readonly_fields = ["user_shown", "presence"]
    fieldsets = [
        (None, {"fields": ["user_shown", "role", "lines"]}),
        (_("Conversations"), {"fields": ["languages", "capacity", "team", "presence"]}),
        (_("Why"), {"fields": ["reason"]}),
    ]
    add_fieldsets = [
        (_("Account"), {"fields": ["username", "first_name", "last_name", "email", "password1", "password2"]}),
        (_("Work"), {"fields": ["role", "lines", "languages", "capacity", "team"]}),
        (_("Why"), {"fields": ["reason"]}),
    ]

    @staticmethod
    def users_of(queryset):
        return queryset.values("user")

    @admin.display(description=_("name"))
    def full_name(self, staff):
        return staff.user.get_full_name()

    @admin.display(description=_("lines"))
    def lines_shown(self, staff):
        return ", ".join(line.name for line in staff.lines.all())

    @admin.display(description=_("user"))
    def user_shown(self, staff):
        url = reverse("admin:auth_user_change", args=[staff.user_id])
        return format_html('<a href="{}">{}</a>', url, staff.user.get_username())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    @method_decorator(sensitive_post_parameters("password1", "password2"))
    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, {**(extra_context or {}), "title": _("Add staff member")})

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            staff_update(
                actor=request.user,
                staff=obj,
                role=data["role"],
                lines=data["lines"],
                languages=data["languages"],
                capacity=data["capacity"],
                team=data["team"],
                reason=data.get("reason", ""),
            )
            return
        staff = staff_create(
            actor=request.user,
            username=data["username"],
            password=data["password1"],
            role=data["role"],
            lines=data["lines"],
            languages=data["languages"],
            capacity=data["capacity"],
            team=data["team"],
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            reason=data.get("reason", ""),
        )
        adopt(obj, staff)
        messages.info(
            request,
            _("%(username)s can log in now; they set up two-factor authentication at their first login.")
            % {"username": staff.user.get_username()},
        )

    def save_related(self, request, form, formsets, change):
        """The service saved the lines with the rest."""

    def has_delete_permission(self, request, obj=None):
        return False


class UserChangeForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason for this change"), required=False, max_length=500, help_text=REASON_HELP)

    class Meta:
        model = User
        fields = list(USER_FIELDS)

    actor = None

    def clean(self):
        cleaned = super().clean()
        if self.actor is not None and self.actor.pk == self.instance.pk and cleaned.get("is_active") is False:
            self.add_error("is_active", _("You cannot deactivate your own account."))
        return cleaned


class PasswordSetForm(forms.Form):
    """A new password for someone else, with the reason; never for oneself (that takes the old one)."""

    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("New password, again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("For example: forgot it, confirmed by phone call. ") + REASON_HELP,
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                validate_password(first, self.user)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class StaffUserAdmin(ActorFormMixin, admin.ModelAdmin):
    """Accounts: names, e-mail, active or not. Role and lines are on the staff page, passwords on their own."""

    form = UserChangeForm
    list_display = ["username", "full_name", "role_shown", "is_active", "last_login"]
    list_filter = ["is_active", "staff__role"]
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering = ["username"]
    list_select_related = ["staff"]
    actions = [reset_two_factor]
    readonly_fields = ["username", "role_shown", "password_shown", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "role_shown", "password_shown"]}),
        (_("Personal details"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Access"), {"fields": ["is_active", "last_login", "date_joined"]}),
        (_("Why"), {"fields": ["reason"]}),
    ]

    @staticmethod
    def users_of(queryset):
        return queryset.values("pk")

    @admin.display(description=_("name"))
    def full_name(self, user):
        return user.get_full_name()

    @admin.display(description=_("role"))
    def role_shown(self, user):
        staff = getattr(user, "staff", None)
        if staff is None:
            return _("none")
        url = reverse("admin:helpline_staff_change", args=[staff.pk])
        return format_html('<a href="{}">{}</a>', url, staff.get_role_display())

    @admin.display(description=_("password"))
    def password_shown(self, user):
        url = reverse("admin:auth_user_password_change", args=[user.pk])
        return format_html('<a href="{}">{}</a>', url, _("Set a new password"))

    def get_urls(self):
        return [
            path(
                "<id>/password/",
                self.admin_site.admin_view(self.password_set_view),
                name="auth_user_password_change",
            ),
            *super().get_urls(),
        ]

    def lookup_allowed(self, lookup, value, request=None):
        return not lookup.startswith("password") and super().lookup_allowed(lookup, value, request)

    def add_view(self, request, form_url="", extra_context=None):
        # One way to add a person: with their role and lines.
        return redirect("admin:helpline_staff_add")

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in USER_FIELDS if name in form.cleaned_data}
        user_update(actor=request.user, user=obj, reason=form.cleaned_data.get("reason", ""), **values)

    def save_related(self, request, form, formsets, change):
        """Groups and permissions are not used: what someone may do follows from their role."""

    def has_delete_permission(self, request, obj=None):
        return False

    @method_decorator(sensitive_post_parameters("password1", "password2"))
    def password_set_view(self, request, id):
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        change_url = reverse("admin:auth_user_change", args=[user.pk])
        refusal = staff_change_refusal(actor=request.user, user=user, password=True)
        if refusal:
            messages.error(request, refusal)
            return HttpResponseRedirect(change_url)
        form = PasswordSetForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            user_password_set(
                actor=request.user,
                user=user,
                password=form.cleaned_data["password1"],
                reason=form.cleaned_data["reason"],
            )
            self.log_change(request, user, [{"changed": {"fields": ["password"]}}])
            messages.success(request, _("Password set. Tell them in person or by phone, never by e-mail."))
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("New password for %(username)s") % {"username": user.get_username()},
            "form": form,
            "adminform": helpers.AdminForm(form, [(None, {"fields": list(form.base_fields)})], {}),
            "opts": self.opts,
            "original": user,
            "change_url": change_url,
        }
        return TemplateResponse(request, "helpline/admin/password_set.html", context)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
