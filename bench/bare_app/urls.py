from django.http import HttpResponse
from django.urls import path

from bench.bare_app.views import bare_inbound, bare_referral, bare_referrals

urlpatterns = [
    path("bench/bare/", bare_inbound),
    path("bench/bare/referrals/", bare_referrals),
    path("bench/bare/referrals/<uuid:referral_id>/", bare_referral),
    path("healthz", lambda request: HttpResponse("ok")),  # bench/ingest.py waits for it at start
]
