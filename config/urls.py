from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Each integration mounts its own webhooks under /integrations/<name>/.
    path("integrations/twilio/", include("integrations.twilio.urls")),
    path("sop/", include("referrals.sop.urls")),
    path("", include("referrals.urls")),
    path("", include("cases.urls")),
    path("", include("helpline.urls")),
]
