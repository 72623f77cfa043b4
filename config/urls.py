from django.contrib import admin
from django.urls import include, path

from helpline.admin_site import require_verified_admin

require_verified_admin(admin.site)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("integrations/", include("integrations.urls")),
    path("", include("referrals.urls")),
    path("", include("helpline.urls")),
]
