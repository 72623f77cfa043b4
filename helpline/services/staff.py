"""Write paths for staff accounts: creating them, and every change of role, lines, profile and password.

The rule these functions keep, whoever calls them (the admin, a command, a test):

- only an administrator changes another person's account (``actor=None`` is the
  system: a management command run by the operator, the demo data);
- nobody changes their own role or lines, deactivates themselves, or sets their own
  password without the old one: another administrator does it, so one person
  alone can never give themselves the right to read conversations;
- a change of role or lines needs a reason, and every change is audited with who
  did it, to whom, what changed (old and new role and lines; names of other fields,
  never their values or a secret) and why.

A refused change raises ``PermissionDenied`` (not allowed) or ``ValidationError``
(bad input) with a message for the person who tried, and changes nothing.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpline import actions
from helpline.access import is_administrator
from helpline.audit.services import audit_record
from helpline.models import Helpline, Role, Staff
from helpline.realtime import broadcast_after_commit, line_group, staff_group

UNCHANGED = object()

# The user fields an administrator edits on another's account (role and lines live on Staff).
USER_FIELDS = ("first_name", "last_name", "email", "is_active")


def staff_change_refusal(*, actor, user, role_or_lines: bool = False, password: bool = False) -> str | None:
    """Why ``actor`` may not make this change to ``user``'s account, or None when they may.

    Forms call it to show the reason beside the field; the services below call it
    again and raise, so no caller can skip it.
    """
    if actor is None:
        return None
    if not is_administrator(actor):
        return _("Only an administrator can change staff accounts.")
    if actor.pk == user.pk and role_or_lines:
        return _("You cannot change your own role or lines. Ask another administrator to do it.")
    if actor.pk == user.pk and password:
        return _("Change your own password with your current one (Change password, at the top of the page).")
    return None


def _refuse(*, actor, user, **change) -> None:
    refusal = staff_change_refusal(actor=actor, user=user, **change)
    if refusal:
        raise PermissionDenied(refusal)


def _lines_from(*, lines: Iterable[Helpline] | None, line_slugs: Iterable[str]) -> list[Helpline]:
    if lines is not None:
        return list(lines)
    line_slugs = list(line_slugs)
    found = list(Helpline.objects.filter(slug__in=line_slugs))
    missing = sorted(set(line_slugs) - {line.slug for line in found})
    if missing:
        raise ValidationError(_("No line with slug %(slugs)s.") % {"slugs": ", ".join(missing)})
    return found


def _slugs(lines) -> list[str]:
    return sorted(line.slug for line in lines)


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why this change is made; the reason is kept in the audit trail."))
    return reason


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str,
    role: str,
    actor=None,
    line_slugs: Iterable[str] = (),
    lines: Iterable[Helpline] | None = None,
    languages: Iterable[str] = (),
    capacity: int = 3,
    team: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    reason: str = "",
) -> Staff:
    """Create a user with its staff profile; they enrol two-factor authentication at first login.

    Raises ValidationError with a clear message (unknown role, taken user name, weak password, unknown line).
    """
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator can add staff members."))
    if role not in Role.values:
        raise ValidationError(
            _("Unknown role %(role)s; choose one of %(roles)s.") % {"role": repr(role), "roles": ", ".join(Role.values)}
        )
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("A user named %(username)s already exists.") % {"username": repr(username)})
    chosen_lines = _lines_from(lines=lines, line_slugs=line_slugs)
    if capacity < 1:
        raise ValidationError(_("Capacity is at least one conversation."))
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    validate_password(password, user)
    user.set_password(password)
    # Administrators configure the platform through the admin; nobody else enters it.
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save()
    staff = Staff.objects.create(user=user, role=role, languages=list(languages), capacity=capacity, team=team)
    staff.lines.set(chosen_lines)
    audit_record(
        action=actions.STAFF_CREATED,
        actor=actor,
        subject=user,
        record=staff,
        reason=reason,
        details={"role": role, "lines": _slugs(chosen_lines), "languages": list(languages), "capacity": capacity},
    )
    return staff


@transaction.atomic
def staff_update(
    *,
    actor,
    staff: Staff,
    role=UNCHANGED,
    lines=UNCHANGED,
    languages=UNCHANGED,
    capacity=UNCHANGED,
    team=UNCHANGED,
    reason: str = "",
) -> Staff:
    """Change a staff member's role, lines, languages, capacity or team; each kind of change is audited.

    Arguments left out stay as they are. A change of role or lines is refused on
    one's own account and needs a ``reason``.
    """
    staff = Staff.objects.select_for_update().select_related("user").get(pk=staff.pk)
    user = staff.user
    old_lines = list(staff.lines.all())
    role_changes = role is not UNCHANGED and role != staff.role
    new_lines = old_lines if lines is UNCHANGED else list(lines)
    lines_change = _slugs(new_lines) != _slugs(old_lines)
    _refuse(actor=actor, user=user, role_or_lines=role_changes or lines_change)
    if role_changes or lines_change:
        reason = _require_reason(reason)
    if role_changes and role not in Role.values:
        raise ValidationError(_("Unknown role %(role)s.") % {"role": repr(role)})
    if capacity is not UNCHANGED and capacity < 1:
        raise ValidationError(_("Capacity is at least one conversation."))

    profile = {}
    for name, value in (("languages", languages), ("capacity", capacity), ("team", team)):
        if value is not UNCHANGED and value != getattr(staff, name):
            profile[name] = [getattr(staff, name), value]
            setattr(staff, name, value)
    if role_changes:
        old_role = staff.role
        staff.role = role
        # The admin is for administrators only; the flags follow the role.
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])
    staff.save()
    if lines_change:
        staff.lines.set(new_lines)

    if role_changes:
        audit_record(
            action=actions.STAFF_ROLE_CHANGED,
            actor=actor,
            subject=user,
            record=staff,
            reason=reason,
            details={"old": old_role, "new": role},
        )
    if lines_change:
        old_slugs, new_slugs = _slugs(old_lines), _slugs(new_lines)
        audit_record(
            action=actions.STAFF_LINES_CHANGED,
            actor=actor,
            subject=user,
            record=staff,
            reason=reason,
            details={
                "old": old_slugs,
                "new": new_slugs,
                "added": sorted(set(new_slugs) - set(old_slugs)),
                "removed": sorted(set(old_slugs) - set(new_slugs)),
            },
        )
    if profile:
        audit_record(
            action=actions.STAFF_PROFILE_CHANGED,
            actor=actor,
            subject=user,
            record=staff,
            reason=reason,
            details=profile,
        )
    if role_changes or lines_change or profile:
        _announce(staff, {line.pk for line in old_lines} | {line.pk for line in new_lines})
    return staff


@transaction.atomic
def user_update(*, actor, user, reason: str = "", **values):
    """Change another user's name, e-mail address or whether the account is active (USER_FIELDS).

    The audit event names the fields that changed (and the old and new ``is_active``), not their values.
    """
    unknown = set(values) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"user_update changes only {', '.join(USER_FIELDS)}, not {', '.join(sorted(unknown))}")
    user = type(user).objects.select_for_update().get(pk=user.pk)
    changed = sorted(name for name, value in values.items() if getattr(user, name) != value)
    if not changed:
        return user
    if actor is not None and actor.pk == user.pk and "is_active" in changed:
        raise PermissionDenied(_("You cannot deactivate your own account."))
    _refuse(actor=actor, user=user)
    details = {"fields": changed}
    if "is_active" in changed:
        details["is_active"] = [user.is_active, values["is_active"]]
    for name in changed:
        setattr(user, name, values[name])
    user.full_clean(exclude=["password", "username"])
    user.save(update_fields=changed)
    audit_record(action=actions.USER_CHANGED, actor=actor, subject=user, reason=reason, details=details)
    return user


@transaction.atomic
def user_password_set(*, actor, user, password: str, reason: str = "") -> None:
    """An administrator (or the system) gives ``user`` a new password; their other sessions end.

    Never for one's own account: that takes the old password (``user_password_change``).
    """
    _refuse(actor=actor, user=user, password=True)
    if actor is not None:
        reason = _require_reason(reason)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(action=actions.USER_PASSWORD_SET, actor=actor, subject=user, reason=reason)


@transaction.atomic
def user_password_change(*, user, old_password: str, new_password: str) -> None:
    """A user changes their own password, proving the old one."""
    if not user.check_password(old_password):
        raise ValidationError(_("Your current password was entered incorrectly."))
    validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(action=actions.USER_PASSWORD_CHANGED, actor=user, subject=user)


def _announce(staff: Staff, line_ids: set) -> None:
    # Consoles of the person and of their lines reload what depends on roles and lines.
    broadcast_after_commit(staff_group(staff.pk), {"type": "staff.changed", "staff_id": staff.pk})
    for line_id in line_ids:
        broadcast_after_commit(line_group(line_id), {"type": "staff.changed", "staff_id": staff.pk})
