"""The registry of audit actions: every app registers the actions it emits, with their labels.

``audit_record`` refuses an action nobody registered, so a typo cannot create
a new kind of event that no filter, label or report knows about. Each app
keeps its action names as constants in its own ``actions`` module and
registers them when that module is imported (its AppConfig.ready imports it):
helpline in ``helpline.actions``, the Twilio integration in
``integrations.twilio.actions``, and so on.

The audit app itself emits only the authentication events below.
"""

from django.utils.translation import gettext_lazy as _

_labels: dict[str, object] = {}


def action_register(name: str, label) -> str:
    """Make ``name`` (lower-case, dotted) a known action with its human label; returns the name."""
    existing = _labels.get(name)
    if existing is not None and str(existing) != str(label):
        raise ValueError(f"Audit action {name!r} is registered twice with different labels")
    _labels[name] = label
    return name


def action_is_registered(name: str) -> bool:
    return name in _labels


def action_label(name: str) -> str:
    """The label of an action, or the name itself for one no longer registered (old events stay readable)."""
    label = _labels.get(name)
    return str(label) if label is not None else name


def actions_registered() -> dict[str, object]:
    """Every registered action and its (lazy) label, sorted by name."""
    return dict(sorted(_labels.items()))


# Authentication (emitted by helpline.audit.signals from Django's auth signals).
AUTH_LOGIN = action_register("auth.login", _("Login"))
AUTH_LOGIN_FAILED = action_register("auth.login_failed", _("Failed login"))
AUTH_LOGOUT = action_register("auth.logout", _("Logout"))
