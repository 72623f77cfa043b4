"""What the cases app does when helpline announces something (connected from CasesConfig.ready)."""

import logging

from cases.services.wrapups import wrapup_open
from helpline.models import Contact, Staff
from helpline.signals import contact_ended

logger = logging.getLogger(__name__)


def on_contact_ended(*, contact_id, actor_id, **kwargs):
    """Open the wrap-up draft as the conversation ends, so the pane has a record to autosave into."""
    contact = Contact.objects.filter(pk=contact_id).first()
    staff = Staff.objects.filter(pk=actor_id).first()
    if contact is None or staff is None or contact.counsellor_id != staff.pk:
        return
    wrapup_open(actor=staff, contact=contact)


def connect() -> None:
    contact_ended.connect(on_contact_ended, dispatch_uid="cases.wrapup_open")
