"""The audit actions the referrals app emits, registered at import (referrals.apps imports this module)."""

from django.utils.translation import gettext_lazy as _

from helpline.audit.actions import action_register

# The agency directory (referrals.services.agencies).
AGENCY_CREATED = action_register("agency.created", _("Agency created"))
AGENCY_UPDATED = action_register("agency.updated", _("Agency changed"))
AGENCY_SECRETS_CHANGED = action_register("agency.secrets_changed", _("Agency delivery secrets replaced"))
AGENCY_MEMBERSHIP_SET = action_register("agency.membership_set", _("Authority user's agency set"))
AGENCY_MEMBERSHIP_REMOVED = action_register("agency.membership_removed", _("Authority user's agency removed"))

# Referrals and their lifecycle (referrals.services.referrals, referrals.outbox).
REFERRAL_PROPOSED = action_register("referral.proposed", _("Referral proposed by the SOP"))
REFERRAL_CREATED_MANUALLY = action_register("referral.created_manually", _("Referral made by hand"))
REFERRAL_EDITED = action_register("referral.edited", _("Referral proposal edited"))
REFERRAL_DISMISSED = action_register("referral.dismissed", _("Referral proposal declined by the counsellor"))
REFERRAL_CONFIRMED = action_register("referral.confirmed", _("Referral confirmed"))
REFERRAL_CONSENT_RECORDED = action_register("referral.consent_recorded", _("Consent to a referral recorded"))
REFERRAL_OVERRIDE_REQUESTED = action_register("referral.override_requested", _("Consent override asked"))
REFERRAL_APPROVAL_DECIDED = action_register("referral.approval_decided", _("Referral plan approved or refused"))
REFERRAL_QUEUED = action_register("referral.queued", _("Referral queued for delivery"))
REFERRAL_SENT = action_register("referral.sent", _("Referral delivered"))
REFERRAL_FAILED = action_register("referral.failed", _("Referral delivery failed"))
REFERRAL_STATUS_CHANGED = action_register("referral.status_changed", _("Referral status changed"))
REFERRAL_ESCALATED = action_register("referral.escalated", _("Overdue referral escalated"))
# What the SOP proposes besides referrals (referrals.services.steps).
NOTICE_RAISED = action_register("notice.raised", _("Supervisors alerted by the SOP about a case"))
NOTICE_SEEN = action_register("notice.seen", _("SOP alert marked seen by a supervisor"))
NOTICE_CAREGIVER_WITHHELD = action_register(
    "notice.caregiver_withheld",
    _("SOP notice no longer suggests telling a caregiver recorded as the alleged perpetrator"),
)
OFFER_PROPOSED = action_register("offer.proposed", _("Offer to the child proposed by the SOP"))
OFFER_LINK_OBTAINED = action_register("offer.link_obtained", _("Report Remove link obtained for the child"))
OFFER_WITHDRAWN = action_register("offer.withdrawn", _("Offer to the child no longer proposed by the SOP"))
CONTACT_SIGNPOSTED = action_register("contact.signposted", _("Agency signposted on a contact"))

# The agency's side (referrals.services.agency_side, referrals.selectors): each step names how it came
# in ("portal" or "api:<key prefix>") in its details.
REFERRAL_ACKNOWLEDGED = action_register("referral.acknowledged", _("Referral acknowledged by the agency"))
REFERRAL_ACCEPTED = action_register("referral.accepted", _("Referral accepted by the agency"))
REFERRAL_DECLINED = action_register("referral.declined", _("Referral declined by the agency"))
REFERRAL_UPDATE_RECORDED = action_register("referral.update_recorded", _("Referral progress update recorded"))
REFERRAL_OUTCOME_RECORDED = action_register("referral.outcome_recorded", _("Referral outcome recorded (closed)"))
REFERRAL_QUESTION_ASKED = action_register("referral.question_asked", _("Question asked about a referral"))
REFERRAL_QUESTION_ANSWERED = action_register("referral.question_answered", _("Question about a referral answered"))
REFERRAL_QUESTION_READ = action_register(
    "referral.question_read", _("An agency's question about a referral read by the helpline")
)
REFERRAL_SHARED_READ = action_register("referral.shared_read", _("Referral read by its agency (what was shared)"))
OUTCOME_KIND_SAVED = action_register("outcome_kind.saved", _("Referral outcome list changed"))

# The referral API (referrals.services.api_keys, referrals.api).
API_KEY_CREATED = action_register("api.key_created", _("API key created for an agency"))
API_KEY_ROTATED = action_register("api.key_rotated", _("API key rotated"))
API_KEY_REVOKED = action_register("api.key_revoked", _("API key revoked"))
API_KEY_REFUSED = action_register("api.key_refused", _("Revoked, expired or wrong API key refused"))
API_CALLED = action_register("api.called", _("Referral API called"))
