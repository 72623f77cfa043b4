from django.http import HttpResponse
from django.urls import path

from bench.bare_app.views import bare_inbound

urlpatterns = [
    path("bench/bare/", bare_inbound),
    path("healthz", lambda request: HttpResponse("ok")),  # bench/ingest.py waits for it at start
]
