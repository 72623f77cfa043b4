"""One step on a case's referral plan, as every plan button does it: the form (when there is one) must be
valid, then the service runs; either way the counsellor is sent back to the plan with what happened."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect


def plan_step(request, *, case_id, perform, done, form=None, invalid=None):
    """``perform(data)`` gets the form's cleaned data ({} without a form); a ``ValidationError`` it raises,
    or an invalid form (reported as ``invalid``), is shown as the error and nothing is changed."""
    try:
        if form is not None and not form.is_valid():
            raise ValidationError(invalid)
        perform(form.cleaned_data if form is not None else {})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("referrals:plan", case_id=case_id)
