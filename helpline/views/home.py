from django.shortcuts import redirect, render

from helpline.access import role_of
from helpline.navigation import nav_home_url


def home(request):
    """Send each role to its own first page."""
    url = nav_home_url(role_of(request.user))
    if url is None:
        return render(request, "helpline/no_role.html", status=403)
    return redirect(url)
