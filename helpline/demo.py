"""Demo data: one line and one user of each role, enrolled in 2FA. Never in production."""

import secrets
from base64 import b32encode
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from helpline.demo_content import demo_content_ensure
from helpline.models import Helpline, Role, SealedTOTPDevice
from helpline.services.lines import helpline_ensure
from helpline.services.staff import staff_create, user_password_set
from helpline.services.twofactor import backup_codes_issue, totp_device_create
from helpline.webchat.services import webchat_endpoint_ensure

DEMO_LINE = "demo"

# The demo SMS and WhatsApp numbers (integrations.twilio.demo) use this provider account; nothing
# sent from them goes anywhere, and the console says so (tests check it matches the gateway's).
DEMO_PROVIDER_ACCOUNT = "AC" + "de70" * 8

# Outer apps add their own demo data (taxonomy, cases, agencies, an SOP) from their
# AppConfig.ready(); each extension is called with the demo line, inside the seed's
# transaction, after the line and users exist, and must be idempotent.
_demo_extensions: list[Callable[[Helpline], None]] = []


def demo_extension_register(extension: Callable[[Helpline], None]) -> None:
    if extension not in _demo_extensions:
        _demo_extensions.append(extension)


DEMO_USERS = [
    ("counsellor", Role.COUNSELLOR),
    ("supervisor", Role.SUPERVISOR),
    ("admin", Role.ADMIN),
    ("authority", Role.AUTHORITY),
]


@dataclass
class DemoLogin:
    username: str
    role: str
    password: str
    totp_secret: str
    backup_codes: list[str]


def demo_seed() -> list[DemoLogin]:
    """Create what is missing and give every demo user a fresh password and backup codes.

    Running it again changes nothing else, so it is safe on every start.
    """
    # Refuse before touching the database at all.
    if settings.PRODUCTION:
        raise ImproperlyConfigured("Demo data never loads in production.")
    return _demo_seed()


@transaction.atomic
def _demo_seed() -> list[DemoLogin]:
    line = helpline_ensure(
        slug=DEMO_LINE,
        name="Demo child helpline",
        languages=["en", "fr", "sw"],
        out_of_hours_message="We are closed now. If you are in danger, call 112.",
    )
    webchat_endpoint_ensure(line=line)
    demo_content_ensure(line)
    line.refresh_from_db()
    User = get_user_model()
    logins = []
    for username, role in DEMO_USERS:
        password = _readable_password()
        user = User.objects.filter(username=username).first()
        if user is None:
            staff = staff_create(
                username=username,
                password=password,
                role=role,
                line_slugs=[DEMO_LINE],
                languages=["en", "fr", "sw"],
            )
            user = staff.user
        else:
            user_password_set(actor=None, user=user, password=password, reason="Demo data: a fresh password")
        device = SealedTOTPDevice.objects.filter(user=user, confirmed=True).select_related("data_key").first()
        if device is None:
            device = totp_device_create(user=user, confirmed=True)
        codes = backup_codes_issue(user=user)
        logins.append(DemoLogin(username, role, password, b32encode(device.bin_key).decode(), codes))
    for extension in _demo_extensions:
        extension(line)
    return logins


def _readable_password() -> str:
    return "-".join(secrets.token_hex(3) for _ in range(4))
