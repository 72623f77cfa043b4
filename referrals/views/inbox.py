from django.shortcuts import render
from django.views.decorators.cache import never_cache

from helpline.access import role_required
from helpline.models import Role
from referrals.selectors import agency_of, referrals_for_agency


@role_required(Role.AUTHORITY)
@never_cache
def inbox(request):
    """Referrals sent to the user's own agency, and nothing else (the Authority issue builds on it)."""
    return render(
        request,
        "referrals/inbox.html",
        {"agency": agency_of(request.user), "referrals": referrals_for_agency(request.user)[:200]},
    )
