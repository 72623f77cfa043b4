from django.urls import reverse

from helpline.access import role_of
from helpline.navigation import nav_items_for


def csp_nonce(request):
    """The nonce under the name django-htmx's script tag looks for."""
    return {"csp_nonce": getattr(request, "csp_nonce", None)}


def navigation(request):
    """The role's pages, as registered by each app (helpline.navigation)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"nav_items": []}
    role = role_of(user)
    items = [{"label": item.label, "url": reverse(item.url_name)} for item in nav_items_for(role)]
    for item in items:
        item["current"] = request.path.startswith(item["url"])
    return {"nav_items": items, "staff_role": role}
