"""Trying again: backoff with jitter for work that failed, and one retry rule for unique-constraint races."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from django.db import IntegrityError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try again.

    The n-th retry waits a random time in the upper half of ``base · 2^(n−1)``
    seconds, capped at ``max_seconds``: exponential, so a receiver that is down
    is not hammered; jittered, so items that failed together do not all come
    back at the same instant.
    """

    max_attempts: int
    base_seconds: float
    max_seconds: float = 3600.0

    def delay(self, attempt: int, *, rng: random.Random | None = None) -> timedelta:
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))  # noqa: S311 - not cryptographic

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


def retry_on_integrity_error(run: Callable[[int], T], *, attempts: int = 3) -> T:
    """Call ``run(attempt)`` (one transaction) again when a concurrent writer won a unique constraint.

    The classic case: two requests store the first message of the same sender at
    once; the loser's insert fails, and its second attempt finds the winner's row.
    ``attempt`` starts at 0, so the first try can skip the lookups a conflict needs.
    """
    for attempt in range(attempts):
        try:
            return run(attempt)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
