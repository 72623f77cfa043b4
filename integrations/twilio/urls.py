from django.urls import path

from integrations.twilio import views

app_name = "twilio"

urlpatterns = [
    path("messages/", views.messages, name="messages"),
    path("status/", views.status, name="status"),
]
