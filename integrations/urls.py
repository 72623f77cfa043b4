"""Webhooks and callbacks of every integration, mounted at /integrations/ by config/urls.py."""

from django.urls import include, path

urlpatterns = [
    path("twilio/", include("integrations.twilio.urls")),
]
