"""Authentication events, taken from Django's auth signals so every login path is covered
(the staff login page, the admin's login page, any future API login)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from helpline.audit import actions
from helpline.audit.services import audit_record

UNKNOWN_USERNAME = "unknown"


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
    audit_record(action=actions.AUTH_LOGIN_FAILED, subject=user, request=request, details=details)


def _existing_user(credentials):
    User = get_user_model()
    attempted = (credentials or {}).get(User.USERNAME_FIELD)
    if not isinstance(attempted, str) or not attempted or len(attempted) > 254:
        return None
    return User._default_manager.filter(**{User.USERNAME_FIELD: attempted}).first()
