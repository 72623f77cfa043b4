"""Write paths for staff accounts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from helpline.models import Helpline, Role, Staff


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str,
    role: str,
    line_slugs: list[str] = (),
    languages: list[str] = (),
    capacity: int = 3,
    team: str = "",
    email: str = "",
) -> Staff:
    """Create a user with its staff profile. Raises ValidationError with a clear message."""
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError(f"A user named {username!r} already exists.")
    lines = list(Helpline.objects.filter(slug__in=line_slugs))
    missing = sorted(set(line_slugs) - {line.slug for line in lines})
    if missing:
        raise ValidationError(f"No line with slug {', '.join(missing)}.")
    user = User(username=username, email=email)
    validate_password(password, user)
    user.set_password(password)
    # Administrators configure the platform through the admin; nobody else enters it.
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save()
    staff = Staff.objects.create(user=user, role=role, languages=list(languages), capacity=capacity, team=team)
    staff.lines.set(lines)
    return staff
