from django.urls import path

from referrals.views import attention, authority, plan, questions, resources, steps

app_name = "referrals"

urlpatterns = [
    path("authority/", authority.inbox, name="inbox"),
    path("authority/referrals/<uuid:referral_id>/", authority.referral, name="portal_referral"),
    path("authority/referrals/<uuid:referral_id>/acknowledge/", authority.acknowledge, name="portal_acknowledge"),
    path("authority/referrals/<uuid:referral_id>/accept/", authority.accept, name="portal_accept"),
    path("authority/referrals/<uuid:referral_id>/decline/", authority.decline, name="portal_decline"),
    path("authority/referrals/<uuid:referral_id>/updates/", authority.update, name="portal_update"),
    path("authority/referrals/<uuid:referral_id>/questions/", authority.ask, name="portal_ask"),
    path(
        "authority/referrals/<uuid:referral_id>/questions/<uuid:question_id>/answer/",
        authority.answer,
        name="portal_answer",
    ),
    path("referrals/attention/", attention.attention, name="attention"),
    path("referrals/resources/", resources.resources, name="resources"),
    path("referrals/signpost/<uuid:contact_id>/<uuid:agency_id>/", resources.signpost, name="signpost"),
    path("referrals/case/<int:case_id>/", plan.plan, name="plan"),
    path("referrals/case/<int:case_id>/manual/", plan.manual, name="manual"),
    path("referrals/<uuid:referral_id>/confirm/", plan.confirm, name="confirm"),
    path("referrals/<uuid:referral_id>/dismiss/", plan.dismiss, name="dismiss"),
    path("referrals/<uuid:referral_id>/edit/", plan.edit, name="edit"),
    path("referrals/<uuid:referral_id>/consent/", plan.consent, name="consent"),
    path("referrals/<uuid:referral_id>/override/", plan.override, name="override"),
    path("referrals/<uuid:referral_id>/withdraw/", plan.withdraw, name="withdraw"),
    path("referrals/<uuid:referral_id>/requeue/", plan.requeue, name="requeue"),
    path("referrals/notices/<uuid:notice_id>/seen/", steps.notice_seen, name="notice_seen"),
    path("referrals/offers/<uuid:offer_id>/link/", steps.offer_link, name="offer_link"),
    path("referrals/approvals/<uuid:approval_id>/decide/", plan.decide, name="decide"),
    # An agency's question, read and answered by the helpline (referrals.views.questions).
    path("referrals/questions/<uuid:question_id>/", questions.question, name="question"),
    path("referrals/questions/<uuid:question_id>/answer/", questions.answer, name="question_answer"),
]
