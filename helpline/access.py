"""Who may reach which page: the one place that marks views public or role-bound.

The two-factor middleware denies every view by default; a view is reachable
without a verified second factor only when it is marked here.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied

from helpline.models import Role


def public(view):
    """Reachable with no login at all (health checks, the children's chat, webhooks)."""
    view.helpline_access = "public"
    return view


def password_only(view):
    """Reachable after the password step, before the second factor (enrolment, verification, logout)."""
    view.helpline_access = "password_only"
    return view


def role_of(user) -> str | None:
    staff = getattr(user, "staff", None) if user.is_authenticated else None
    return staff.role if staff else None


def role_required(*roles: Role):
    """Limit a view to staff whose role is one of ``roles``; others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if role_of(request.user) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def session_is_verified(user, session) -> bool:
    """Whether this session passed the second factor, checked the way OTPMiddleware does.

    WebSocket consumers do not run the HTTP middleware, so they call this with
    the scope's user and session instead of trusting ``user.is_authenticated``.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    if user is None or not user.is_authenticated or session is None:
        return False
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk and device.confirmed


def is_administrator(user) -> bool:
    """Whether ``user`` configures the platform: the admin role, or a superuser made at installation."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or role_of(user) == Role.ADMIN


def supervises_line(staff, line_id) -> bool:
    """Whether ``staff`` is a supervisor of the line ``line_id``."""
    return staff.role == Role.SUPERVISOR and staff.lines.filter(pk=line_id).exists()
