from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from helpline.access import role_required
from helpline.models import Role
from referrals.selectors import referrals_needing_attention


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def attention(request):
    """Overdue and failed referrals and pending approvals of the supervisor's lines; refreshes itself (htmx)."""
    template = "referrals/attention_list.html" if request.htmx else "referrals/attention.html"
    return render(request, template, referrals_needing_attention(request.user))
