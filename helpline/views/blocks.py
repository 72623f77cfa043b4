"""Supervisors block an abusive sender from a conversation they can see, and lift blocks from a list.

Neither page shows the sender's number or chat token: a block holds only its blind
index. Both writes go through helpline.services.blocks, which checks the line and
audits. A conversation outside the supervisor's lines is a 404, as everywhere in
supervision.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from helpline.access import role_required
from helpline.models import Role
from helpline.selectors import blocks_visible_to, contacts_visible_to
from helpline.services.blocks import MAX_REASON_LENGTH, sender_block, sender_unblock

DURATIONS = {
    "1d": (_("24 hours"), timedelta(days=1)),
    "7d": (_("7 days"), timedelta(days=7)),
    "30d": (_("30 days"), timedelta(days=30)),
    "lifted": (_("Until someone lifts it"), None),
}


class BlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this sender blocked?"),
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit trail and shown to the line's supervisors. Do not write the number."),
    )
    duration = forms.ChoiceField(
        label=_("For how long?"),
        choices=[(key, label) for key, (label, _delta) in DURATIONS.items()],
        initial="7d",
        widget=forms.RadioSelect,
    )


class UnblockForm(forms.Form):
    reason = forms.CharField(label=_("Why lift it? (optional)"), max_length=MAX_REASON_LENGTH, required=False)


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
@never_cache
def block(request, contact_id):
    contact = get_object_or_404(
        contacts_visible_to(request.user).select_related("line", "counsellor__user"), pk=contact_id
    )
    form = BlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        delta = DURATIONS[form.cleaned_data["duration"]][1]
        try:
            sender_block(
                actor=request.user.staff,
                contact=contact,
                reason=form.cleaned_data["reason"],
                expires_at=timezone.now() + delta if delta else None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Sender blocked on %(line)s. This conversation goes on until it is ended.")
                % {"line": contact.line.name},
            )
            return redirect("helpline:supervisor_blocks")
    status = 422 if form.errors else 200
    return render(request, "helpline/supervision/block_form.html", {"contact": contact, "form": form}, status=status)


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET"])
@never_cache
def blocks(request):
    return render(
        request, "helpline/supervision/blocks.html", {"blocks": blocks_visible_to(request.user), "form": UnblockForm()}
    )


@role_required(Role.SUPERVISOR)
@require_POST
def unblock(request, block_id):
    found = get_object_or_404(blocks_visible_to(request.user), pk=block_id)
    form = UnblockForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    sender_unblock(actor=request.user.staff, block=found, reason=reason)
    messages.success(request, _("Block lifted. The sender's next message joins the queue as anyone's does."))
    return redirect("helpline:supervisor_blocks")
