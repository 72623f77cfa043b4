"""Login in two steps: the password, then a second factor (enrolling one the first time)."""

import segno
from django import forms
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from helpline.access import password_only
from helpline.services import twofactor

NEXT_SESSION_KEY = "helpline_next"


class CodeForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        # Not inputmode="numeric": backup codes have letters, and a phone's number pad cannot type them.
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false", "autofocus": True}
        ),
    )


class LoginView(auth_views.LoginView):
    template_name = "helpline/auth/login.html"
    redirect_authenticated_user = False
    helpline_access = "public"

    def get_success_url(self):
        # Remember where the user was going; the second factor comes first.
        next_url = self.get_redirect_url()
        if next_url:
            self.request.session[NEXT_SESSION_KEY] = next_url
        return "/2fa/"


@password_only
@never_cache
def two_factor(request):
    if request.user.is_verified():
        return _after_verification(request)
    if twofactor.twofactor_is_enrolled(request.user):
        return redirect("helpline:verify")
    return redirect("helpline:enrol")


@password_only
@never_cache
def enrol(request):
    # A user who already has a device cannot add one with a password alone.
    if twofactor.twofactor_is_enrolled(request.user):
        return redirect("helpline:verify")
    device = twofactor.totp_enrolment_start(request=request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.totp_enrolment_confirm(request=request, device=device, token=form.cleaned_data["token"])
        if codes is not None:
            return render(request, "helpline/auth/backup_codes.html", {"codes": codes, "first_time": True})
        form.add_error("token", _("That code is not valid. Check the time on your phone and try the newest code."))
    secret = _base32_secret(device)
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return render(request, "helpline/auth/enrol.html", {"form": form, "secret": secret, "qr_svg": qr_svg})


@password_only
@never_cache
def verify(request):
    if not twofactor.twofactor_is_enrolled(request.user):
        return redirect("helpline:enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.twofactor_verify(request=request, token=form.cleaned_data["token"]):
            return _after_verification(request)
        form.add_error("token", _("That code is not valid or has already been used."))
    return render(request, "helpline/auth/verify.html", {"form": form})


@never_cache
def backup_codes(request):
    codes = twofactor.backup_codes_regenerate(request=request) if request.method == "POST" else None
    return render(request, "helpline/auth/backup_codes.html", {"codes": codes, "first_time": False})


@password_only
@require_POST
def logout_view(request):
    logout(request)
    return redirect("helpline:login")


def _after_verification(request):
    next_url = request.session.pop(NEXT_SESSION_KEY, "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("helpline:home")


def _base32_secret(device) -> str:
    from base64 import b32encode

    raw = b32encode(device.bin_key).decode()
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
