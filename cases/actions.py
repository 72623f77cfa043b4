"""The audit actions the cases app emits, registered with the audit trail at import (CasesConfig.ready)."""

from django.utils.translation import gettext_lazy as _

from helpline.audit.actions import action_register

# Taxonomy and line settings (cases.services.taxonomy).
TAXONOMY_IMPORTED = action_register("taxonomy.imported", _("Taxonomy version imported"))
TAXONOMY_PUBLISHED = action_register("taxonomy.published", _("Taxonomy version published"))
LINE_REGIONS_SET = action_register("cases.line_regions_set", _("Regions of a line set"))

# Wrap-up of contacts (cases.services.wrapups).
WRAPUP_SAVED = action_register("wrapup.saved", _("Wrap-up draft saved"))
WRAPUP_FINALISED = action_register("wrapup.finalised", _("Wrap-up finished"))
CONTACT_LOGGED = action_register("wrapup.contact_logged", _("Contact logged by hand"))

# Cases (cases.services.cases, .people, .notes, .flags).
CASE_OPENED = action_register("case.opened", _("Case opened"))
CASE_CONTACT_LINKED = action_register("case.contact_linked", _("Contact linked to a case"))
CASE_ACCESS_VIA_REPEAT = action_register(
    "case.access_via_repeat_contact", _("Case reached through a repeat contact of the same sender")
)
CASE_STATUS_CHANGED = action_register("case.status_changed", _("Case status changed"))
CASE_FACTS_UPDATED = action_register("case.facts_updated", _("Case facts updated"))
CASE_PERSON_ADDED = action_register("case.person_added", _("Person added to a case"))
CASE_PERSON_UPDATED = action_register("case.person_updated", _("Person on a case changed"))
CASE_PERSON_REMOVED = action_register("case.person_removed", _("Person removed from a case"))
CASE_NOTE_ADDED = action_register("case.note_added", _("Case note added"))
CASE_NOTE_CORRECTED = action_register("case.note_corrected", _("Case note corrected"))
CASE_FLAG_RAISED = action_register("case.flag_raised", _("Case flagged"))
CASE_FLAG_REMOVED = action_register("case.flag_removed", _("Case flag removed"))

# Reads of protected case content (cases.selectors).
CASE_READ = action_register("case.read", _("Case content read"))
CASE_PRINTED = action_register("case.printed", _("Case summary printed"))
CASE_CONTENT_SHARED = action_register("case.content_unsealed_for_sharing", _("Case content unsealed for a referral"))
WRAPUP_READ = action_register("wrapup.read", _("Wrap-up summary read"))

# Retention (cases.services.retention).
RETENTION_POLICY_CHANGED = action_register("retention.policy_changed", _("Retention policy changed"))
RETENTION_RUN = action_register("retention.run", _("Retention run"))

# Approvals (cases.services.approvals).
APPROVAL_REQUESTED = action_register("approval.requested", _("Approval asked for"))
APPROVAL_APPROVED = action_register("approval.approved", _("Approval given"))
APPROVAL_REJECTED = action_register("approval.rejected", _("Approval refused"))

# Supervision (cases.services.supervision).
CASE_BREAK_GLASS = action_register("case.break_glass", _("Case opened outside one's lines (break glass)"))
CASE_REASSIGNED = action_register("case.reassigned", _("Case reassigned"))
