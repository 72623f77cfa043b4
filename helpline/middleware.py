import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse


class RequireTwoFactorMiddleware:
    """No page, admin page or API call works on a password alone.

    Views are closed by default: anonymous users go to the login page, users who
    have given only their password go to 2FA enrolment or verification. Views
    opt out only through ``helpline.access.public`` or ``password_only``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        access = _access_of(view_func)
        if access == "public":
            return None
        user = request.user
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


class IdleTimeoutMiddleware:
    """Log a user out after SESSION_COOKIE_AGE seconds without anything *they* did.

    The session cookie's own expiry is pushed forward by every request, including
    the refreshes a live console makes by itself when events arrive; those carry
    the background header and do not count as activity, so an unattended console
    still ends.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            active_at = request.session.get(ACTIVE_AT_SESSION_KEY)
            if active_at is not None and now - active_at > settings.SESSION_COOKIE_AGE:
                logout(request)
                if request.headers.get("HX-Request"):
                    # A fragment request: send the whole page to the login form.
                    return HttpResponse(status=204, headers={"HX-Redirect": reverse("helpline:login")})
            elif request.headers.get(BACKGROUND_HEADER) != "1":
                request.session[ACTIVE_AT_SESSION_KEY] = now
        return self.get_response(request)
