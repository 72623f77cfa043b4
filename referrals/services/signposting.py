"""Recording that a counsellor gave a child an agency's details on a contact (no referral, no data sent)."""

from django.db import transaction

from helpline.audit.services import audit_record
from referrals import actions
from referrals.models import Agency, Signposting


@transaction.atomic
def contact_signpost(*, actor, contact, agency: Agency) -> Signposting:
    """Idempotent: signposting the same agency twice on one contact records it once."""
    signposting, created = Signposting.objects.get_or_create(
        contact=contact, agency=agency, defaults={"by": actor.staff}
    )
    if created:
        audit_record(action=actions.CONTACT_SIGNPOSTED, actor=actor, record=contact, details={"agency": agency.code})
    return signposting
