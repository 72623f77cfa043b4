from django.shortcuts import redirect, render

from helpline.access import role_of, role_required
from helpline.context_processors import NAVIGATION
from helpline.models import Role


def home(request):
    """Send each role to its own home page."""
    pages = NAVIGATION.get(role_of(request.user))
    if not pages:
        return render(request, "helpline/no_role.html", status=403)
    return redirect(pages[0][1])


@role_required(Role.COUNSELLOR, Role.SUPERVISOR)
def console(request):
    return render(request, "helpline/console.html")


@role_required(Role.SUPERVISOR)
def supervisor(request):
    return render(request, "helpline/supervisor.html")
