"""The project's URLs plus test-only pages: an API-shaped view (how the 2FA middleware answers
API calls) and pages with known faults that the browser checks must catch (tests/browser/checks.py).
The browser tests' server serves this URLconf (tests/server_settings.py)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path

from helpline.access import public

FAULTY_PAGES = ("unlabelled-input", "inline-style", "inline-script", "script-error", "clean")


def api_ping(request):
    return JsonResponse({"user": request.user.get_username()})


@public
def faulty_page(request, fault):
    return render(request, "testapp/faulty_page.html", {"fault": fault})


urlpatterns = [
    path("api/ping/", api_ping),
    *(path(f"test-pages/{fault}/", faulty_page, {"fault": fault}) for fault in FAULTY_PAGES),
    path("", include("config.urls")),
]
