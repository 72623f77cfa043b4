"""/api/: the referral API (v1, served by the slim machine stack) and its public schema and docs."""

from django.urls import path

from referrals.api import views

app_name = "api"

urlpatterns = [
    path("v1/referrals/", views.ReferralList.as_view(), name="referrals"),
    path("v1/referrals/<uuid:referral_id>/", views.ReferralDetail.as_view(), name="referral"),
    path("v1/referrals/<uuid:referral_id>/acknowledge/", views.Acknowledge.as_view(), name="acknowledge"),
    path("v1/referrals/<uuid:referral_id>/accept/", views.Accept.as_view(), name="accept"),
    path("v1/referrals/<uuid:referral_id>/decline/", views.Decline.as_view(), name="decline"),
    path("v1/referrals/<uuid:referral_id>/updates/", views.Update.as_view(), name="updates"),
    path("v1/referrals/<uuid:referral_id>/questions/", views.Ask.as_view(), name="questions"),
    path(
        "v1/referrals/<uuid:referral_id>/questions/<uuid:question_id>/answer/",
        views.AnswerQuestion.as_view(),
        name="answer",
    ),
    path("v1/outcome-kinds/", views.OutcomeKindList.as_view(), name="outcome_kinds"),
    path("schema/", views.Schema.as_view(), name="schema"),
    path("docs/", views.Docs.as_view(), name="docs"),
]
