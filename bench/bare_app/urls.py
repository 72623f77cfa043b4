from django.urls import path

from bench.bare_app.views import bare_inbound
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("bench/bare/", bare_inbound), *project_urlpatterns]
