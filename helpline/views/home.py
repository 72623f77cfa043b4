from django.shortcuts import redirect, render

from helpline.access import role_of
from helpline.context_processors import NAVIGATION


def home(request):
    """Send each role to its own home page."""
    pages = NAVIGATION.get(role_of(request.user))
    if not pages:
        return render(request, "helpline/no_role.html", status=403)
    return redirect(pages[0][1])
