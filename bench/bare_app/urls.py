from django.urls import path

from bench.bare_app.views import bare_inbound

urlpatterns = [path("bench/bare/", bare_inbound)]
