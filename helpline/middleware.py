"""The staff stack's own middlewares: the user and 2FA device from the session's one read, 2FA on every
view, and the idle timeout.

The 2FA and idle timeout ones are ``sync_and_async_middleware``: they run in whichever mode the chain around
them runs, so neither forces Django to put a thread hop (an ``async_to_sync`` or
``sync_to_async`` adapter) into a request. The staff handler (``config.handlers``) runs
the whole chain and the view in one worker thread, so there they run sync.
"""

import time
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import alogout, logout
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django_otp.middleware import OTPMiddleware

from helpline.session_store import SIGNED_IN, signed_in_from


class SessionAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's, except that the user is the one the session's read found (``helpline.session_store``):
    the session, the user, their staff profile and second factor come in one statement."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user(request))


def _user(request):
    if not hasattr(request, "_cached_user"):
        with signed_in_from(request.session):
            request._cached_user = auth.get_user(request)  # Django's checks: backend, session hash
    return request._cached_user


class SessionOTPMiddleware(OTPMiddleware):
    """django-otp's, except that the verified device is the one the session's read found."""

    def _verify_user_sync(self, request, user):
        with signed_in_from(request.session):
            return super()._verify_user_sync(request, user)

    def _device_from_persistent_id(self, persistent_id: str):
        signed_in = SIGNED_IN.get()
        if signed_in is not None and signed_in.device_id == self._normalize_persistent_id(persistent_id):
            return signed_in.device  # None: the row names a device that no longer exists
        return super()._device_from_persistent_id(persistent_id)


class RequireTwoFactorMiddleware:
    """No page, admin page or API call works on a password alone.

    Views are closed by default: anonymous users go to the login page, users who
    have given only their password go to 2FA enrolment or verification. Views
    opt out only through ``helpline.access.public`` or ``password_only``.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)
            # Django adapts process_view to the handler's mode; a coroutine is called as it is.
            self.process_view = self._aprocess_view

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        access = _access_of(view_func)
        if access == "public":
            return None
        return _refusal(request, request.user, access)

    async def _aprocess_view(self, request, view_func, view_args, view_kwargs):
        access = _access_of(view_func)
        if access == "public":
            return None
        return _refusal(request, await request.auser(), access)


def _refusal(request, user, access):
    """What a request for a closed view gets from ``user``: None when it may go on."""
    wants_json = request.path.startswith("/api/")
    if not user.is_authenticated:
        if wants_json:
            return JsonResponse({"detail": "Authentication required."}, status=401)
        return redirect(f"{reverse('helpline:login')}?{urlencode({'next': request.get_full_path()})}")
    if access == "password_only" or user.is_verified():
        return None
    if wants_json:
        return JsonResponse({"detail": "Two-factor verification required."}, status=403)
    return redirect("helpline:two_factor")


def _access_of(view_func) -> str | None:
    # Class-based views keep the marker on the class; admin views are wrapped.
    for candidate in (view_func, getattr(view_func, "view_class", None), getattr(view_func, "__wrapped__", None)):
        access = getattr(candidate, "helpline_access", None)
        if access:
            return access
    return None


ACTIVE_AT_SESSION_KEY = "helpline_active_at"
BACKGROUND_HEADER = "X-Helpline-Background"


def idle_allowance() -> int:
    """Seconds without activity after which a session ends: the idle timeout plus the stamp's interval.

    The activity stamp is written at most once per ``HELPLINE_SESSION_TOUCH_SECONDS``, so it
    may be up to that much older than the user's last request; counting it in means nobody
    is logged out before the full idle timeout, and everyone is by timeout + interval.
    The session row's own expiry is the same (``helpline.session_store``).
    """
    return settings.SESSION_COOKIE_AGE + settings.HELPLINE_SESSION_TOUCH_SECONDS


class IdleTimeoutMiddleware:
    """Log a user out after the idle timeout without anything *they* did.

    Requests the user made stamp the session with the time (``ACTIVE_AT_SESSION_KEY``),
    at most once per ``HELPLINE_SESSION_TOUCH_SECONDS``: the session is written only
    then (``SESSION_SAVE_EVERY_REQUEST`` is off), not on every request. The refreshes a
    live console makes by itself when events arrive carry the background header and
    stamp nothing, so an unattended console still ends.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        if request.user.is_authenticated:
            verdict = _idle_verdict(request, request.session.get(ACTIVE_AT_SESSION_KEY))
            if verdict == "expired":
                logout(request)
                if request.headers.get("HX-Request"):
                    return _to_login()
            elif verdict == "stamp":
                request.session[ACTIVE_AT_SESSION_KEY] = time.time()
        return self.get_response(request)

    async def __acall__(self, request):
        if (await request.auser()).is_authenticated:
            verdict = _idle_verdict(request, await request.session.aget(ACTIVE_AT_SESSION_KEY))
            if verdict == "expired":
                await alogout(request)
                if request.headers.get("HX-Request"):
                    return _to_login()
            elif verdict == "stamp":
                await request.session.aset(ACTIVE_AT_SESSION_KEY, time.time())
        return await self.get_response(request)


def _idle_verdict(request, active_at) -> str:
    """What the idle rule says: "expired", "stamp" (the user's request, stamp old enough) or "" (nothing)."""
    now = time.time()
    if active_at is not None and now - active_at > idle_allowance():
        return "expired"
    if request.headers.get(BACKGROUND_HEADER) == "1":
        return ""
    if active_at is None or now - active_at >= settings.HELPLINE_SESSION_TOUCH_SECONDS:
        return "stamp"
    return ""


def _to_login():
    # A fragment request after the session ended: send the whole page to the login form.
    return HttpResponse(status=204, headers={"HX-Redirect": reverse("helpline:login")})
