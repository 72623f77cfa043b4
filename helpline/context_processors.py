from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from helpline.access import role_of
from helpline.models import Role

# Each role's navigation: (label, url name). Later apps add their pages here.
NAVIGATION = {
    Role.COUNSELLOR: [(_("Console"), "helpline:console")],
    Role.SUPERVISOR: [(_("Supervision"), "helpline:supervisor"), (_("Console"), "helpline:console")],
    Role.ADMIN: [(_("Administration"), "admin:index")],
    Role.AUTHORITY: [(_("Referrals inbox"), "referrals:inbox")],
}


def csp_nonce(request):
    """The nonce under the name django-htmx's script tag looks for."""
    return {"csp_nonce": getattr(request, "csp_nonce", None)}


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"nav_items": []}
    role = role_of(user)
    items = [{"label": label, "url": reverse(name)} for label, name in NAVIGATION.get(role, [])]
    for item in items:
        item["current"] = request.path.startswith(item["url"])
    return {"nav_items": items, "staff_role": role}
