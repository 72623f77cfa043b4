"""Every audit action name, in one place, so callers and readers agree on the strings.

The values are plain strings: code that passes a literal (``"2fa.reset"``) keeps
working, but new code should import the constant. A new kind of event gets its
constant and label here, next to the others, before anyone emits it.
"""

from django.utils.translation import gettext_lazy as _

# Authentication (emitted by helpline.audit.signals from Django's auth signals).
AUTH_LOGIN = "auth.login"
AUTH_LOGIN_FAILED = "auth.login_failed"
AUTH_LOGOUT = "auth.logout"

# Two-factor authentication (emitted by helpline.twofactor).
TWOFACTOR_ENROLLED = "2fa.enrolled"
TWOFACTOR_VERIFIED = "2fa.verified"
TWOFACTOR_FAILED = "2fa.failed"
TWOFACTOR_RESET = "2fa.reset"
TWOFACTOR_BACKUP_CODES_REGENERATED = "2fa.backup_codes_regenerated"

# The encryption vault (emitted by helpline.vault).
CONTENT_READ = "content.read"
VAULT_SHRED = "vault.shred"
VAULT_KEYS_ROTATED = "vault.keys_rotated"

# The live queue and consoles (emitted by helpline.routing and helpline.views).
CONTACT_ACCEPTED = "contact.accepted"
CONTACT_ASSIGNED = "contact.assigned"
CONTACT_TRANSFERRED = "contact.transferred"
CONTACT_ENDED = "contact.ended"
CONTACT_CLOSED = "contact.closed"
CONTACT_READ_ALONG = "contact.read_along"
PRESENCE_SET_BY_SUPERVISOR = "presence.set_by_supervisor"
RISK_CONFIRMED = "risk.confirmed"
RISK_CLEARED = "risk.cleared"

# Channels (emitted by integrations; the names live here so the inner layer owns them).
TWILIO_SIGNATURE_REJECTED = "twilio.signature_rejected"

# Exports of case data or statistics.
EXPORT_CREATED = "export.created"

LABELS = {
    AUTH_LOGIN: _("Login"),
    AUTH_LOGIN_FAILED: _("Failed login"),
    AUTH_LOGOUT: _("Logout"),
    TWOFACTOR_ENROLLED: _("2FA enrolled"),
    TWOFACTOR_VERIFIED: _("2FA verified"),
    TWOFACTOR_FAILED: _("2FA code refused"),
    TWOFACTOR_RESET: _("2FA reset"),
    TWOFACTOR_BACKUP_CODES_REGENERATED: _("Backup codes regenerated"),
    CONTENT_READ: _("Protected content read"),
    VAULT_SHRED: _("Data key destroyed"),
    VAULT_KEYS_ROTATED: _("Keys rotated"),
    CONTACT_ACCEPTED: _("Conversation accepted"),
    CONTACT_ASSIGNED: _("Conversation assigned"),
    CONTACT_TRANSFERRED: _("Conversation transferred"),
    CONTACT_ENDED: _("Conversation ended"),
    CONTACT_CLOSED: _("Conversation closed"),
    CONTACT_READ_ALONG: _("Supervisor read along"),
    PRESENCE_SET_BY_SUPERVISOR: _("Presence set by a supervisor"),
    RISK_CONFIRMED: _("Risk confirmed"),
    RISK_CLEARED: _("Risk cleared"),
    TWILIO_SIGNATURE_REJECTED: _("Twilio signature rejected"),
    EXPORT_CREATED: _("Export created"),
}
