"""Supervision of caseloads, approvals and break glass (the writes go through cases.services).

- ``supervision``: the supervisor's page: live cases per counsellor by status and risk,
  high-risk cases without a recent note, requests waiting for a decision.
- ``case_close_request``: the case's counsellor (or a supervisor of its line) asks to close it.
- ``approval_decide``: a supervisor of the line, never the one who asked, approves or rejects.
- ``case_reassign``: a supervisor of the line gives the case to someone else on it.
- ``break_glass``: a supervisor opens a case of another line by reference, saying why.

A case or a request the user cannot reach is a 404, as everywhere in cases.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.links import case_url
from cases.models import CASE_CLOSURE, LIVE_STATUSES, Case, CaseStatus
from cases.models.choices import RiskLevel
from cases.overdue import high_risk_note_hours
from cases.references import reference_normalise
from cases.selectors.access import cases_visible_to
from cases.selectors.supervision import (
    SHOWN,
    approval_for_decision,
    approvals_pending_for,
    caseloads,
    cases_high_risk_stale,
)
from cases.services import supervision as supervision_services
from cases.services.approvals import (
    MAX_REASON_LENGTH,
    ApprovalError,
    SelfApprovalError,
    approval_decide,
    case_close_request,
)
from cases.services.supervision import SupervisionError, case_break_glass, case_reassign, reassignable_to
from helpline.access import role_required, supervises_line
from helpline.models import Role


class CloseRequestForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why can this case close?"),
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("A supervisor reads this before deciding. It is kept with the case."),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = forms.CharField(max_length=MAX_REASON_LENGTH, required=False)


class BreakGlassForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("Case reference"), max_length=20)
    reason = forms.CharField(
        label=gettext_lazy("Why do you need this case?"),
        min_length=supervision_services.MIN_REASON_LENGTH,
        max_length=supervision_services.MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Kept in the audit trail and shown on the case to its line's staff. Do not write names or numbers."
        ),
    )


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def supervision(request):
    user = request.user
    return render(
        request,
        "cases/supervision/caseloads.html",
        {
            "caseloads": caseloads(user),
            "live_statuses": [(status, CaseStatus(status).label) for status in LIVE_STATUSES],
            "stale": list(cases_high_risk_stale(user)[:SHOWN]),
            "note_hours": high_risk_note_hours(),
            "approvals": list(approvals_pending_for(user)[:SHOWN]),
            "high_levels": [RiskLevel.HIGH.label, RiskLevel.IMMINENT.label],
        },
    )


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
@never_cache
def close_request(request, case_id):
    case = get_object_or_404(cases_visible_to(request.user).select_related("line"), pk=case_id)
    form = CloseRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case_close_request(actor=request.user.staff, case=case, reason=form.cleaned_data["reason"])
        except ApprovalError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Closure requested. A supervisor of the line decides it."))
            return redirect(case_url(case))
    status = 422 if form.errors else 200
    return render(request, "cases/supervision/close_request.html", {"case": case, "form": form}, status=status)


@role_required(Role.SUPERVISOR)
@require_POST
def decide(request, approval_id):
    approval = approval_for_decision(request.user, approval_id)
    if approval is None:
        return render(request, "cases/supervision/refused.html", {"message": _("Not found.")}, status=404)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render(
            request, "cases/supervision/refused.html", {"message": _("Choose approve or reject.")}, status=422
        )
    approve = form.cleaned_data["decision"] == "approve"
    try:
        approval_decide(
            actor=request.user.staff, approval=approval, approve=approve, reason=form.cleaned_data["reason"]
        )
    except ApprovalError as error:
        status = 403 if isinstance(error, SelfApprovalError) else 409
        return render(request, "cases/supervision/refused.html", {"message": str(error)}, status=status)
    reference = approval.case.reference
    if approval.kind != CASE_CLOSURE:
        messages.success(
            request,
            _("Decided: %(kind)s on case %(reference)s.") % {"kind": approval.kind_label, "reference": reference},
        )
    elif approve:
        messages.success(request, _("Approved: case %(reference)s is closed.") % {"reference": reference})
    else:
        messages.success(request, _("Rejected: case %(reference)s is back in progress.") % {"reference": reference})
    return redirect("cases:supervision")


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
@never_cache
def reassign(request, case_id):
    case = get_object_or_404(cases_visible_to(request.user).select_related("line", "counsellor__user"), pk=case_id)
    if not supervises_line(request.user.staff, case.line_id):
        return render(request, "cases/supervision/refused.html", {"message": _("Not found.")}, status=404)
    candidates = list(reassignable_to(case).select_related("user").order_by("user__username"))
    error = ""
    if request.method == "POST":
        chosen = next((staff for staff in candidates if str(staff.pk) == request.POST.get("to")), None)
        if chosen is None:
            error = _("Choose someone on this case's line.")
        else:
            try:
                case_reassign(actor=request.user.staff, case=case, to_staff=chosen)
            except SupervisionError as refusal:
                error = str(refusal)
            else:
                messages.success(
                    request,
                    _("Case %(reference)s is now with %(name)s.")
                    % {"reference": case.reference, "name": chosen.user.get_username()},
                )
                return redirect(case_url(case))
    return render(
        request,
        "cases/supervision/reassign.html",
        {"case": case, "candidates": candidates, "error": error},
        status=422 if error else 200,
    )


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
@never_cache
def break_glass(request):
    form = BreakGlassForm(request.POST or None, initial={"reference": request.GET.get("reference", "")})
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["reference"]
        visible = cases_visible_to(request.user).filter(reference=_normalised(reference)).first()
        if visible is not None:
            return redirect(case_url(visible))  # within reach: no glass to break
        try:
            access = case_break_glass(
                actor=request.user.staff, reference=reference, reason=form.cleaned_data["reason"], request=request
            )
        except Case.DoesNotExist:
            form.add_error("reference", _("No case has that reference."))
        except SupervisionError as error:
            form.add_error("reason", str(error))
        else:
            messages.warning(request, _("You opened this case outside your lines. This is recorded and shown on it."))
            return redirect(case_url(access.case))
    status = 422 if form.errors else 200
    return render(request, "cases/supervision/break_glass.html", {"form": form}, status=status)


def _normalised(reference: str) -> str:
    return reference_normalise(reference) or ""
