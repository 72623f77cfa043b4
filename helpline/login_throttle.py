"""Login throttling that slows a guesser down without letting anyone lock staff out.

django-axes records every failed password (``AccessAttempt``); this module decides, before
a password is checked, whether the attempt may go ahead:

- **the pair** (user name, client address): after each failure the pair waits before its
  next try, twice as long each time (``HELPLINE_LOGIN_DELAY_SECONDS`` × 2^(failures − 1));
  at ``AXES_FAILURE_LIMIT`` failures the pair is locked for ``AXES_COOLOFF_TIME``. Only the
  pair: the same name from another address is not held back, so failures from an
  attacker's address never lock a counsellor out of their own workstation;
- **the address**: ``HELPLINE_LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one address across
  all names (a script spraying guesses) lock that address for ``AXES_COOLOFF_TIME``. It is
  far higher than the pair limit, so a few mistyped or made-up names never lock a real
  user out of a shared office address;
- a supervisor's **unlock** (``helpline.services.logins.login_unlock``) clears a
  colleague's failures and lets their name past a locked address until their next login.

Attempts refused here are not counted as failures (the password was never checked), so
retrying during a wait does not make it longer. What django-axes stores as the user name
is a keyed hash (``login_name_digest``): a password typed into the user-name box never
reaches a table, a log or an admin page.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

from helpline.models import LoginUnlock
from helpline.vault.keyed_hash import HashPurpose, keyed_hash

LOCKOUT_TEMPLATE = "helpline/auth/locked_out.html"
REFUSAL_REQUEST_ATTRIBUTE = "helpline_login_refusal"


class RefusalReason:
    WAIT = "wait"  # the pair's growing delay has not passed yet
    PAIR = "pair"  # the pair reached the failure limit
    ADDRESS = "address"  # the address reached its own, higher limit


@dataclass(frozen=True)
class LoginRefusal:
    reason: str
    until: datetime

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))


def login_name_digest(name: str) -> str:
    """What stands for a typed user name wherever failures are counted: a keyed hash."""
    return keyed_hash(purpose=HashPurpose.LOGIN_NAME, value=name)


def login_name_for_axes(request, credentials) -> str | None:
    """``AXES_USERNAME_CALLABLE``: django-axes counts and stores the digest, never the text."""
    field = get_user_model().USERNAME_FIELD
    name = (credentials or {}).get(field)
    if name is None and request is not None:
        name = getattr(request, "POST", {}).get(field)
    return login_name_digest(name) if isinstance(name, str) and name else None


def _typed_name(request, credentials) -> str:
    field = get_user_model().USERNAME_FIELD
    name = (credentials or {}).get(field) or getattr(request, "POST", {}).get(field) or ""
    return name if isinstance(name, str) else ""


def _cooloff() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def _failures(attempts) -> tuple[int, datetime | None]:
    totals = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    return totals["failures"] or 0, totals["last"]


def pair_delay(failures: int) -> timedelta:
    """How long a pair waits after its ``failures``-th failure (below the limit)."""
    if failures < 1:
        return timedelta(0)
    return min(timedelta(seconds=settings.HELPLINE_LOGIN_DELAY_SECONDS * 2 ** (failures - 1)), _cooloff())


def login_refusal(*, name: str, address: str | None, now: datetime | None = None) -> LoginRefusal | None:
    """Why a login attempt for ``name`` from ``address`` must not go ahead now, or None."""
    now = now or timezone.now()
    since = now - _cooloff()
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    digest = login_name_digest(name) if name else None
    pair_failures, pair_last = _failures(recent.filter(username=digest, ip_address=address))
    if pair_failures >= settings.AXES_FAILURE_LIMIT:
        return LoginRefusal(RefusalReason.PAIR, pair_last + _cooloff())
    address_failures, address_last = _failures(recent.filter(ip_address=address))
    if address_failures >= settings.HELPLINE_LOGIN_ADDRESS_FAILURE_LIMIT and not _unlocked(name, now):
        return LoginRefusal(RefusalReason.ADDRESS, address_last + _cooloff())
    if pair_failures and now < pair_last + pair_delay(pair_failures):
        return LoginRefusal(RefusalReason.WAIT, pair_last + pair_delay(pair_failures))
    return None


def _unlocked(name: str, now: datetime) -> bool:
    field = get_user_model().USERNAME_FIELD
    return bool(name) and LoginUnlock.objects.filter(**{f"user__{field}": name}, expires_at__gt=now).exists()


class LoginThrottleHandler(AxesDatabaseHandler):
    """``AXES_HANDLER``: axes' database handler, with the decision above instead of its own."""

    def is_locked(self, request, credentials=None) -> bool:
        refusal = login_refusal(
            name=_typed_name(request, credentials), address=request.axes_ip_address, now=request.axes_attempt_time
        )
        setattr(request, REFUSAL_REQUEST_ATTRIBUTE, refusal)
        return refusal is not None


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: 429 with what happened, how long to wait, and who can help."""
    refusal = getattr(request, REFUSAL_REQUEST_ATTRIBUTE, None) or login_refusal(
        name=_typed_name(request, credentials), address=getattr(request, "axes_ip_address", None)
    )
    refusal = refusal or LoginRefusal(RefusalReason.PAIR, timezone.now() + _cooloff())
    seconds = refusal.retry_after_seconds
    context = {"reason": refusal.reason, "seconds": seconds, "minutes": math.ceil(seconds / 60)}
    response = render(request, LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(seconds)
    return response


@dataclass(frozen=True)
class PairLockout:
    """Recent failures of one person's name from one address, for their supervisor."""

    address: str | None
    failures: int
    last_failure: datetime
    locked_until: datetime | None  # None while only slowed down


def login_lockouts_of(users) -> dict[int, list[PairLockout]]:
    """For each of ``users`` (by id), the addresses their name failed from recently, newest first."""
    since = timezone.now() - _cooloff()
    by_digest = {login_name_digest(user.get_username()): user.pk for user in users}
    rows = (
        AccessAttempt.objects.filter(username__in=by_digest, attempt_time__gte=since)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .order_by("-last")
    )
    lockouts: dict[int, list[PairLockout]] = {pk: [] for pk in by_digest.values()}
    for row in rows:
        locked = row["failures"] >= settings.AXES_FAILURE_LIMIT
        lockouts[by_digest[row["username"]]].append(
            PairLockout(
                address=row["ip_address"],
                failures=row["failures"],
                last_failure=row["last"],
                locked_until=row["last"] + _cooloff() if locked else None,
            )
        )
    return lockouts
