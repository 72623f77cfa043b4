from django.contrib import admin
from django.urls import include, path

from helpline.admin_site import require_verified_admin

require_verified_admin(admin.site)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Each integration mounts its own webhooks under /integrations/<name>/.
    path("integrations/twilio/", include("integrations.twilio.urls")),
    path("", include("referrals.urls")),
    path("", include("helpline.urls")),
]
