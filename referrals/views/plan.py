"""A case's referral plan: the SOP's proposals and the referrals made, with what each is waiting for,
and the counsellor's and supervisor's decisions. Nothing protected is shown here (reasons and notes
stay sealed); the agency, the rule, the why, deadlines and statuses are plain."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
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


def _done(request, case_id, message=None, error=None):
    if error is not None:
        messages.error(request, " ".join(error.messages))
    elif message:
        messages.success(request, message)
    return redirect("referrals:plan", case_id=case_id)


def _referral(request, referral_id):
    referral = referral_for_write(request.user, referral_id)
    if referral is None:
        raise Http404
    return referral


@role_required(*STAFF)
@require_POST
def confirm(request, referral_id):
    referral = _referral(request, referral_id)
    try:
        referral = referral_confirm(actor=request.user, referral=referral)
    except ValidationError as error:
        return _done(request, referral.case_id, error=error)
    return _done(request, referral.case_id, _("Referral confirmed."))


@role_required(*STAFF)
@require_POST
def dismiss(request, referral_id):
    referral = _referral(request, referral_id)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why this referral is not made."))
        referral_dismiss(actor=request.user, referral=referral, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        return _done(request, referral.case_id, error=error)
    return _done(request, referral.case_id, _("Proposal declined."))


@role_required(*STAFF)
@require_POST
def edit(request, referral_id):
    referral = _referral(request, referral_id)
    form = EditForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose an urgency and the fields to share."))
        referral_edit(
            actor=request.user,
            referral=referral,
            urgency=form.cleaned_data["urgency"],
            share=form.cleaned_data["share"],
        )
    except ValidationError as error:
        return _done(request, referral.case_id, error=error)
    return _done(request, referral.case_id, _("Proposal changed."))


@role_required(*STAFF)
@require_POST
def consent(request, referral_id):
    referral = _referral(request, referral_id)
    form = ConsentForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say who consented and how."))
        referral_consent_record(actor=request.user, referral=referral, **form.cleaned_data)
    except ValidationError as error:
        return _done(request, referral.case_id, error=error)
    return _done(request, referral.case_id, _("Consent recorded."))


@role_required(*STAFF)
@require_POST
def override(request, referral_id):
    referral = _referral(request, referral_id)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why consent cannot be asked for or must be overridden."))
        referral_override_request(actor=request.user, referral=referral, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        return _done(request, referral.case_id, error=error)
    return _done(request, referral.case_id, _("A supervisor is asked to decide."))


@role_required(*STAFF)
@require_POST
def withdraw(request, referral_id):
    referral = _referral(request, referral_id)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why the referral is withdrawn."))
        referral_withdraw(actor=request.user, referral=referral, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        return _done(request, referral.case_id, error=error)
    return _done(request, referral.case_id, _("Referral withdrawn."))


@role_required(Role.SUPERVISOR)
@require_POST
def requeue(request, referral_id):
    """A supervisor sends a failed referral again, once its cause (an agency's settings, say) is fixed."""
    referral = _referral(request, referral_id)
    try:
        referral_requeue(actor=request.user, referral=referral)
    except ValidationError as error:
        return _done(request, referral.case_id, error=error)
    return _done(request, referral.case_id, _("Referral queued to be sent again."))


@role_required(*STAFF)
@require_POST
def manual(request, case_id):
    case = _case_for(request.user, case_id)
    form = ManualForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose an agency and an urgency, and say why."))
        referral_manual_create(actor=request.user, case=case, **form.cleaned_data)
    except ValidationError as error:
        return _done(request, case.pk, error=error)
    return _done(request, case.pk, _("Referral added to the plan; confirm it to send it."))


@role_required(Role.SUPERVISOR)
@require_POST
def decide(request, approval_id):
    approval = approval_for_decision(request.user, approval_id)
    if approval is None:
        raise Http404
    form = DecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Approve or refuse, and say why."))
        referral_plan_decide(
            actor=request.user,
            approval=approval,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        return _done(request, approval.case_id, error=error)
    return _done(request, approval.case_id, _("Decision recorded."))
