"""Sign-in lockouts of a supervisor's colleagues, and the audited unlock.

A colleague locked out in the middle of a shift (their own mistakes, or someone guessing at
their name from the same address) asks their supervisor, who unlocks them here with a reason.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from helpline.access import role_required
from helpline.models import Role
from helpline.selectors import line_staff, line_staff_sign_ins
from helpline.services.logins import MAX_REASON_LENGTH, login_unlock

TEMPLATE = "helpline/logins/lockouts.html"


def _context(request, **extra) -> dict:
    return {"rows": line_staff_sign_ins(request.user), "max_reason_length": MAX_REASON_LENGTH, **extra}


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def lockouts(request):
    return render(request, TEMPLATE, _context(request))


@role_required(Role.SUPERVISOR)
@require_POST
def unlock(request, staff_id):
    member = get_object_or_404(line_staff(request.user).exclude(pk=request.user.staff.pk), pk=staff_id)
    reason = request.POST.get("reason", "")
    try:
        login_unlock(actor=request.user.staff, staff=member, reason=reason)
    except ValidationError as error:
        context = _context(request, error_staff_id=member.pk, error=" ".join(error.messages), reason=reason)
        return render(request, TEMPLATE, context, status=422)
    name = member.user.get_full_name() or member.user.get_username()
    messages.success(request, _("%(name)s can sign in again.") % {"name": name})
    return redirect("helpline:login_lockouts")
