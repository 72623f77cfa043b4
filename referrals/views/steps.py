"""The SOP's notices and offers: a supervisor marks a notice seen; a counsellor gets the Report Remove
link for the child. Both redirect back (the supervision page's alerts, the case's referral plan)."""

from django import forms
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from helpline.access import role_required
from helpline.models import Role
from referrals.selectors import notice_for_supervisor, offer_for_write
from referrals.services.steps import notice_mark_seen, offer_link_obtain
from referrals.views.plan_step import plan_step


class AgeRangeForm(forms.Form):
    age_range = forms.ChoiceField(
        label=gettext_lazy("The child's age"),
        choices=[("13-15", gettext_lazy("13 to 15")), ("16-17", gettext_lazy("16 to 17"))],
    )


@role_required(Role.SUPERVISOR)
@require_POST
def notice_seen(request, notice_id):
    notice = notice_for_supervisor(request.user, notice_id)
    if notice is None:
        raise Http404
    notice_mark_seen(actor=request.user, notice=notice)
    # htmx follows the redirect and swaps the refreshed Alerts card in.
    return redirect("helpline:supervisor_alerts" if request.htmx else "helpline:supervisor")


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
@require_POST
def offer_link(request, offer_id):
    offer = offer_for_write(request.user, offer_id)
    if offer is None:
        raise Http404
    return plan_step(
        request,
        case_id=offer.case_id,
        form=AgeRangeForm(request.POST),
        invalid=_("Choose the child's age range: 13 to 15, or 16 to 17."),
        perform=lambda data: offer_link_obtain(actor=request.user, offer=offer, age_range=data["age_range"]),
        done=_("The Report Remove link is ready: give it to the child."),
    )
