"""The resource-list pane beside a conversation in wrap-up (helpline.panes): search the directory by
need, language and region, prefilled from the wrap-up, and record "signposted" on the contact."""

from helpline.models import ContactStatus


def resources_pane_context(request, contact) -> dict:
    wrapup = getattr(contact, "wrapup", None) if hasattr(contact, "wrapup") else None
    categories = list(getattr(wrapup, "categories", None) or [])
    return {
        "contact_id": contact.pk,
        "need": categories[0] if categories else "",
        "language": contact.language or "",
        "region": getattr(wrapup, "region", "") or "",
    }


PANE = {
    "name": "resources",
    "template": "referrals/pane_resources.html",
    "context": resources_pane_context,
    "statuses": (ContactStatus.WRAPUP,),
    "order": 60,
}
