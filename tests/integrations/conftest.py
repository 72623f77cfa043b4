"""Fixtures shared by the transports' tests."""

import pytest


class Kept:
    """What the referral outbox does with ``remember``: keep the latest dict for the next attempt."""

    def __init__(self):
        self.progress: dict = {}
        self.calls: list[dict] = []

    def __call__(self, kept: dict) -> None:
        self.calls.append(dict(kept))
        self.progress = dict(kept)


@pytest.fixture
def kept():
    return Kept()
