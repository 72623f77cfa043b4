"""What makes a case "overdue", as a registry of SQL conditions, so the case list can filter on it.

Each condition is ``fn(now) -> Q`` over ``cases.Case``. ``cases`` registers its own (a
high-risk case with no note for ``HIGH_RISK_NOTE_HOURS``); ``referrals`` adds its own from
its AppConfig.ready() (a referral past its acknowledgement deadline) without cases knowing it.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Q

from cases.models import LIVE_STATUSES
from cases.models.choices import RiskLevel

HIGH_RISK_LEVELS = [RiskLevel.HIGH, RiskLevel.IMMINENT]

_conditions: dict[str, Callable[..., Q]] = {}


def case_overdue_register(*, name: str, condition: Callable[..., Q]) -> None:
    _conditions[name] = condition


def overdue_condition(now) -> Q:
    """A case is overdue when any registered condition holds."""
    parts = [condition(now) for _, condition in sorted(_conditions.items())]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def high_risk_note_hours() -> int:
    return int(getattr(settings, "HELPLINE_HIGH_RISK_NOTE_HOURS", 24))


def high_risk_without_recent_note(now) -> Q:
    """Live, high or imminent risk, and no note for N hours (counted from opening when none yet)."""
    since = now - timedelta(hours=high_risk_note_hours())
    return Q(status__in=LIVE_STATUSES, risk_level__in=HIGH_RISK_LEVELS) & (
        Q(last_note_at__lt=since) | Q(last_note_at__isnull=True, created_at__lt=since)
    )


case_overdue_register(name="cases.high_risk_without_note", condition=high_risk_without_recent_note)
