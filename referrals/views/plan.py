"""A case's referral plan: the SOP's proposals and the referrals made, with what each is waiting for,
and the counsellor's and supervisor's decisions. Nothing protected is shown here (reasons and notes
stay sealed); the agency, the rule, the why, deadlines and statuses are plain."""

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cases.models import Case
from cases.selectors import case_facts, case_is_visible, supervises_case
from helpline.access import role_required
from helpline.models import Role
from referrals.document_fields import SHAREABLE_FIELDS
from referrals.lifecycle import STATUS_LABELS
from referrals.models import Agency, ConsentBy, ConsentMethod, Urgency
from referrals.selectors import (
    NOTIFY_LABELS,
    OFFER_LABELS,
    approval_for_decision,
    notices_for_case,
    offers_for_case,
    referral_for_write,
    referrals_for_case,
)
from referrals.services.referrals import (
    referral_confirm,
    referral_consent_record,
    referral_dismiss,
    referral_edit,
    referral_manual_create,
    referral_override_request,
    referral_plan_decide,
    referral_requeue,
    referral_waiting_for,
    referral_withdraw,
)
from referrals.services.steps import offer_age_range
from referrals.views.plan_step import plan_step
from referrals.views.steps import AgeRangeForm

STAFF = (Role.COUNSELLOR, Role.SUPERVISOR)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Why?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ConsentForm(forms.Form):
    by = forms.ChoiceField(label=_("Who consented?"), choices=ConsentBy.choices)
    method = forms.ChoiceField(label=_("How?"), choices=ConsentMethod.choices)


class EditForm(forms.Form):
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    share = forms.MultipleChoiceField(
        label=_("Fields to share"),
        required=False,
        choices=[(path, label) for path, (label, _protected) in SHAREABLE_FIELDS.items()],
        widget=forms.CheckboxSelectMultiple,
    )


class ManualForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.filter(active=True))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    reason = forms.CharField(
        label=_("Why refer outside the SOP?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("refuse", _("Refuse"))], widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Why?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


def _case_for(user, case_id) -> Case:
    case = Case.objects.select_related("line").filter(pk=case_id).first()
    if case is None or not case_is_visible(user, case):
        raise Http404
    return case


@role_required(*STAFF)
@require_GET
@never_cache
def plan(request, case_id):
    case = _case_for(request.user, case_id)
    referrals = list(referrals_for_case(request.user, case))
    for referral in referrals:
        referral.waiting = referral_waiting_for(referral) if referral.status in ("proposed", "approved") else []
        referral.status_label = STATUS_LABELS.get(referral.status, referral.status)
        referral.decidable = (
            referral.approval is not None
            and referral.approval.status == "pending"
            and approval_for_decision(request.user, referral.approval_id) is not None
            and referral.approval.requested_by_id != getattr(request.user.staff, "pk", None)
        )
        referral.requeueable = referral.status == "failed" and supervises_case(request.user, case)
    notices = notices_for_case(request.user, case)
    for notice in notices:
        notice.told = [str(NOTIFY_LABELS.get(target, target)) for target in notice.notify if target != "caregiver"]
        notice.tell_caregiver = "caregiver" in notice.notify
    offers = offers_for_case(request.user, case)
    age_range = offer_age_range(case_facts(case)) if offers else ""
    for offer in offers:
        offer.label = OFFER_LABELS.get(offer.offer, offer.offer)
    return render(
        request,
        "referrals/plan.html",
        {
            "case": case,
            "referrals": referrals,
            "notices": notices,
            "offers": offers,
            "offer_age_range": age_range,
            "age_form": AgeRangeForm(initial={"age_range": age_range}),
            "reason_form": ReasonForm(),
            "consent_form": ConsentForm(),
            "decision_form": DecisionForm(),
            "manual_form": ManualForm(),
            "edit_form": EditForm(),
        },
    )


def _referral(request, referral_id):
    referral = referral_for_write(request.user, referral_id)
    if referral is None:
        raise Http404
    return referral


@role_required(*STAFF)
@require_POST
def confirm(request, referral_id):
    referral = _referral(request, referral_id)
    return plan_step(
        request,
        case_id=referral.case_id,
        perform=lambda data: referral_confirm(actor=request.user, referral=referral),
        done=_("Referral confirmed."),
    )


@role_required(*STAFF)
@require_POST
def dismiss(request, referral_id):
    referral = _referral(request, referral_id)
    return plan_step(
        request,
        case_id=referral.case_id,
        form=ReasonForm(request.POST),
        invalid=_("Say why this referral is not made."),
        perform=lambda data: referral_dismiss(actor=request.user, referral=referral, reason=data["reason"]),
        done=_("Proposal declined."),
    )


@role_required(*STAFF)
@require_POST
def edit(request, referral_id):
    referral = _referral(request, referral_id)
    return plan_step(
        request,
        case_id=referral.case_id,
        form=EditForm(request.POST),
        invalid=_("Choose an urgency and the fields to share."),
        perform=lambda data: referral_edit(
            actor=request.user, referral=referral, urgency=data["urgency"], share=data["share"]
        ),
        done=_("Proposal changed."),
    )


@role_required(*STAFF)
@require_POST
def consent(request, referral_id):
    referral = _referral(request, referral_id)
    return plan_step(
        request,
        case_id=referral.case_id,
        form=ConsentForm(request.POST),
        invalid=_("Say who consented and how."),
        perform=lambda data: referral_consent_record(actor=request.user, referral=referral, **data),
        done=_("Consent recorded."),
    )


@role_required(*STAFF)
@require_POST
def override(request, referral_id):
    referral = _referral(request, referral_id)
    return plan_step(
        request,
        case_id=referral.case_id,
        form=ReasonForm(request.POST),
        invalid=_("Say why consent cannot be asked for or must be overridden."),
        perform=lambda data: referral_override_request(actor=request.user, referral=referral, reason=data["reason"]),
        done=_("A supervisor is asked to decide."),
    )


@role_required(*STAFF)
@require_POST
def withdraw(request, referral_id):
    referral = _referral(request, referral_id)
    return plan_step(
        request,
        case_id=referral.case_id,
        form=ReasonForm(request.POST),
        invalid=_("Say why the referral is withdrawn."),
        perform=lambda data: referral_withdraw(actor=request.user, referral=referral, reason=data["reason"]),
        done=_("Referral withdrawn."),
    )


@role_required(Role.SUPERVISOR)
@require_POST
def requeue(request, referral_id):
    """A supervisor sends a failed referral again, once its cause (an agency's settings, say) is fixed."""
    referral = _referral(request, referral_id)
    return plan_step(
        request,
        case_id=referral.case_id,
        perform=lambda data: referral_requeue(actor=request.user, referral=referral),
        done=_("Referral queued to be sent again."),
    )


@role_required(*STAFF)
@require_POST
def manual(request, case_id):
    case = _case_for(request.user, case_id)
    return plan_step(
        request,
        case_id=case.pk,
        form=ManualForm(request.POST),
        invalid=_("Choose an agency and an urgency, and say why."),
        perform=lambda data: referral_manual_create(actor=request.user, case=case, **data),
        done=_("Referral added to the plan; confirm it to send it."),
    )


@role_required(Role.SUPERVISOR)
@require_POST
def decide(request, approval_id):
    approval = approval_for_decision(request.user, approval_id)
    if approval is None:
        raise Http404
    return plan_step(
        request,
        case_id=approval.case_id,
        form=DecisionForm(request.POST),
        invalid=_("Approve or refuse, and say why."),
        perform=lambda data: referral_plan_decide(
            actor=request.user, approval=approval, approve=data["decision"] == "approve", reason=data["reason"]
        ),
        done=_("Decision recorded."),
    )
