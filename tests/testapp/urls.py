"""The project's URLs plus an API-shaped view, to show how the 2FA middleware answers API calls."""

from django.http import JsonResponse
from django.urls import include, path


def api_ping(request):
    return JsonResponse({"user": request.user.get_username()})


urlpatterns = [
    path("api/ping/", api_ping),
    path("", include("config.urls")),
]
