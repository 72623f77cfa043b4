from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("authority/", views.inbox, name="inbox"),
]
