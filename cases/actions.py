"""The audit actions the cases app emits, registered with the audit trail at import (cases.apps)."""

from django.utils.translation import gettext_lazy as _

from helpline.audit.actions import action_register

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
