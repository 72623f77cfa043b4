"""The lifecycle's one transition table: every allowed move, and every other move refused in plain words."""

import itertools

import pytest

from referrals.lifecycle import FINAL, STATUS_LABELS, TRANSITIONS, Status, TransitionRefused, transition_event

ALLOWED = [
    ("proposed", "approved"),
    ("proposed", "queued"),
    ("proposed", "dismissed"),
    ("approved", "queued"),
    ("queued", "sent"),
    ("queued", "failed"),
    ("failed", "queued"),
    ("sent", "acknowledged"),
    ("sent", "accepted"),
    ("sent", "declined"),
    ("acknowledged", "accepted"),
    ("acknowledged", "declined"),
    ("accepted", "closed"),
    ("declined", "closed"),
    *[
        (state, "withdrawn")
        for state in ("proposed", "approved", "queued", "sent", "acknowledged", "accepted", "failed")
    ],
]


def test_the_table_is_exactly_the_lifecycle_of_the_issue():
    assert sorted(TRANSITIONS) == sorted(ALLOWED)


@pytest.mark.parametrize(("current", "wanted"), ALLOWED)
def test_every_allowed_move_has_an_event(current, wanted):
    assert transition_event(current, wanted)


REFUSED = [pair for pair in itertools.product(STATUS_LABELS, STATUS_LABELS) if pair not in set(ALLOWED)]


@pytest.mark.parametrize(("current", "wanted"), REFUSED)
def test_every_other_move_is_refused_with_a_clear_error(current, wanted):
    with pytest.raises(TransitionRefused) as refused:
        transition_event(current, wanted)
    message = str(refused.value)
    assert str(STATUS_LABELS[current]).lower() in message and str(STATUS_LABELS[wanted]).lower() in message


def test_final_states_lead_nowhere():
    for state in FINAL:
        with pytest.raises(TransitionRefused, match="its story has ended"):
            transition_event(state, Status.QUEUED)


def test_sending_before_approval_or_queueing_is_refused():
    with pytest.raises(TransitionRefused, match="can only become"):
        transition_event(Status.PROPOSED, Status.SENT)
