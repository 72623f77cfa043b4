"""The project's URLs plus test-only pages: an API-shaped view (how the 2FA middleware answers
API calls) and pages with known faults that the browser checks must catch (tests/browser/checks.py).
The browser tests' server serves this URLconf (tests/server_settings.py)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import include, path
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401 - Django reads them here
from helpline.access import public
from referrals.api.views import ApiView

CRASH_MESSAGE = "crash with a secret inside: Amani Wanjiru"

FAULTY_PAGES = ("unlabelled-input", "inline-style", "inline-script", "script-error", "clean")


def api_ping(request):
    return JsonResponse({"user": request.user.get_username()})


@public
def faulty_page(request, fault):
    return render(request, "testapp/faulty_page.html", {"fault": fault})


class ApiCrash(ApiView, APIView):
    """An API endpoint with a fault (tests/referrals/api/test_problems.py: a 500 is a problem too)."""

    def get(self, request):
        raise RuntimeError(CRASH_MESSAGE)


urlpatterns = [
    path("api/ping/", api_ping),
    path("api/v1/test-crash/", ApiCrash.as_view()),
    *(path(f"test-pages/{fault}/", faulty_page, {"fault": fault}) for fault in FAULTY_PAGES),
    path("", include("config.urls")),
]
