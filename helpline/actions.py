"""The audit actions the helpline app emits, registered with the audit trail at import.

helpline.apps imports this module in ready(), so they are known before any request.
"""

from django.utils.translation import gettext_lazy as _

from helpline.audit.actions import action_register

# Two-factor authentication (helpline.services.twofactor).
TWOFACTOR_ENROLLED = action_register("2fa.enrolled", _("2FA enrolled"))
TWOFACTOR_VERIFIED = action_register("2fa.verified", _("2FA verified"))
TWOFACTOR_FAILED = action_register("2fa.failed", _("2FA code refused"))
TWOFACTOR_RESET = action_register("2fa.reset", _("2FA reset"))
TWOFACTOR_BACKUP_CODES_REGENERATED = action_register("2fa.backup_codes_regenerated", _("Backup codes regenerated"))

# Login throttling (helpline.services.logins).
LOGIN_UNLOCKED = action_register("login.unlocked", _("Sign-in unlocked by a supervisor"))

# Protected content and its keys (helpline.selectors, helpline.services.keys).
CONTENT_READ = action_register("content.read", _("Protected content read"))
VAULT_SHRED = action_register("vault.shred", _("Data key destroyed"))
VAULT_KEYS_ROTATED = action_register("vault.keys_rotated", _("Keys rotated"))

# The live queue and consoles (helpline.services.queue, helpline.selectors).
CONTACT_ACCEPTED = action_register("contact.accepted", _("Conversation accepted"))
CONTACT_ASSIGNED = action_register("contact.assigned", _("Conversation assigned"))
CONTACT_TRANSFERRED = action_register("contact.transferred", _("Conversation transferred"))
CONTACT_ENDED = action_register("contact.ended", _("Conversation ended"))
CONTACT_CLOSED = action_register("contact.closed", _("Conversation closed"))
CONTACT_READ_ALONG = action_register("contact.read_along", _("Supervisor read along"))
PRESENCE_SET_BY_SUPERVISOR = action_register("presence.set_by_supervisor", _("Presence set by a supervisor"))
RISK_CONFIRMED = action_register("risk.confirmed", _("Risk confirmed"))
RISK_CLEARED = action_register("risk.cleared", _("Risk cleared"))

# Exports of case data or statistics.
EXPORT_CREATED = action_register("export.created", _("Export created"))

# Staff accounts, changed only through helpline.services.staff (the admin calls it).
STAFF_CREATED = action_register("staff.created", _("Staff member added"))
STAFF_ROLE_CHANGED = action_register("staff.role_changed", _("Role changed"))
STAFF_LINES_CHANGED = action_register("staff.lines_changed", _("Lines changed"))
STAFF_PROFILE_CHANGED = action_register("staff.profile_changed", _("Staff profile changed"))
USER_CHANGED = action_register("user.changed", _("User account changed"))
USER_PASSWORD_SET = action_register("user.password_set", _("Password set by an administrator"))
USER_PASSWORD_CHANGED = action_register("user.password_changed", _("Own password changed"))

# Lines and their configuration (helpline.services.lines).
LINE_CREATED = action_register("line.created", _("Line created"))
LINE_CHANGED = action_register("line.changed", _("Line changed"))
CANNED_RESPONSE_CREATED = action_register("canned_response.created", _("Prepared reply added"))
CANNED_RESPONSE_CHANGED = action_register("canned_response.changed", _("Prepared reply changed"))
CANNED_RESPONSE_DELETED = action_register("canned_response.deleted", _("Prepared reply deleted"))

# Numbers and pages of a line (helpline.services.endpoints).
ENDPOINT_CREATED = action_register("endpoint.created", _("Endpoint created"))
ENDPOINT_TOKEN_ROTATED = action_register("endpoint.token_rotated", _("Endpoint token replaced"))
ENDPOINT_ACTIVATED = action_register("endpoint.activated", _("Endpoint switched on"))
ENDPOINT_DEACTIVATED = action_register("endpoint.deactivated", _("Endpoint switched off"))

# The block list (helpline.services.blocks).
SENDER_BLOCKED = action_register("sender.blocked", _("Sender blocked"))
SENDER_UNBLOCKED = action_register("sender.unblocked", _("Sender unblocked"))
