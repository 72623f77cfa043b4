from django.urls import path

from referrals.sop import views

app_name = "sop"

urlpatterns = [
    path("", views.index, name="index"),
    path("check/", views.check, name="check"),
    path("dry-run/", views.dry_run, name="dry_run"),
    path("line/<slug:line_slug>/new/", views.draft_new, name="draft_new"),
    path("line/<slug:line_slug>/compare/", views.compare, name="compare"),
    path("v/<int:pk>/", views.version_detail, name="version"),
    path("v/<int:pk>/activate/", views.activate, name="activate"),
]
