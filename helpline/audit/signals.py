"""Authentication events, taken from Django's auth signals so every login path is covered
(the staff login page, the admin's login page, any future API login)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

from helpline.audit import actions
from helpline.audit.services import audit_record

UNKNOWN_USERNAME = "unknown"
# Failed logins recorded per client address and minute: enough to see an attack in the
# trail, not so many that a script hammering the login page floods the append-only chain.
FAILED_LOGINS_RECORDED_PER_MINUTE = 20


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def record_login(sender, request, user, **kwargs):
    audit_record(action=actions.AUTH_LOGIN, actor=user, subject=user, request=request)


@receiver(user_logged_out, dispatch_uid="audit_user_logged_out")
def record_logout(sender, request, user, **kwargs):
    audit_record(action=actions.AUTH_LOGOUT, actor=user, subject=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_user_login_failed")
def record_login_failed(sender, credentials, request=None, **kwargs):
    # People type their password into the username box; what they typed is kept
    # only when it names a real account, so a password can never land in the trail.
    user = _existing_user(credentials)
    details = {"username": user.get_username() if user else UNKNOWN_USERNAME}
    # django-axes marks an attempt it refused without checking the password.
    if getattr(request, "axes_locked_out", False):
        details["locked_out"] = True
    if not _within_recording_budget(request):
        return
    audit_record(action=actions.AUTH_LOGIN_FAILED, subject=user, request=request, details=details)


def _within_recording_budget(request) -> bool:
    address = (getattr(request, "META", None) or {}).get("REMOTE_ADDR", "")
    key = f"audit:login_failed:{address}"
    cache.add(key, 0, timeout=60)
    try:
        return cache.incr(key) <= FAILED_LOGINS_RECORDED_PER_MINUTE
    except ValueError:  # the window expired between add and incr
        return True


def _existing_user(credentials):
    User = get_user_model()
    attempted = (credentials or {}).get(User.USERNAME_FIELD)
    if not isinstance(attempted, str) or not attempted or len(attempted) > 254:
        return None
    return User._default_manager.filter(**{User.USERNAME_FIELD: attempted}).first()
