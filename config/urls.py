from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Each integration mounts its own webhooks under /integrations/<name>/.
    path("integrations/twilio/", include("integrations.twilio.urls")),
    path("sop/", include("referrals.sop.urls")),
    # The referral API and its public schema and docs (docs/API.md).
    path("api/", include("referrals.api.urls")),
    path("", include("referrals.urls")),
    path("", include("cases.urls")),
    path("", include("helpline.urls")),
]

# Under /api/ these answer with RFC 9457 problems; elsewhere with Django's own pages.
handler400 = "referrals.api.problems.bad_request"
handler403 = "referrals.api.problems.forbidden"
handler404 = "referrals.api.problems.not_found"
handler500 = "referrals.api.problems.server_error"
