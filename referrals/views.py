from django.shortcuts import render

from helpline.access import role_required
from helpline.models import Role


@role_required(Role.AUTHORITY)
def inbox(request):
    return render(request, "referrals/inbox.html")
