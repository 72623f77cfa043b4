"""One-row invariants of the case models: references, sealed fields, append-only notes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.models import Case, CaseNote, CaseStatusChange
from cases.references import ALPHABET, BODY_LENGTH, reference_format, reference_new, reference_normalise
from helpline.vault.errors import PlaintextRefusedError
from helpline.vault.services import datakey_create, seal, unseal

bodies = st.text(alphabet=ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH)


def test_a_new_reference_reads_back_and_has_no_confusable_characters():
    reference = reference_new()
    assert len(reference) == 10 and reference[3] == "-" and reference[8] == "-"
    assert not set(reference) & set("01OILUZ")
    assert reference_normalise(reference.lower().replace("-", " ")) == reference


@given(bodies, st.integers(0, BODY_LENGTH - 1), st.sampled_from(ALPHABET))
def test_the_check_character_catches_any_one_wrong_character(body, position, char):
    reference = reference_format(body)
    typo = body[:position] + char + body[position + 1 :]
    compact = typo + reference[-1]
    assert (reference_normalise(compact) is None) == (typo != body)


@given(bodies, st.integers(0, BODY_LENGTH - 1))
def test_the_check_character_catches_two_neighbours_swapped(body, position):
    compact = reference_format(body).replace("-", "")
    swapped = compact[:position] + compact[position + 1] + compact[position] + compact[position + 2 :]
    if swapped != compact:
        assert reference_normalise(swapped) is None


def test_the_pair_luhn_mod_n_misses_is_caught():
    body = "2" + ALPHABET[-1] + "22222"
    swapped = body[1] + body[0] + body[2:]
    assert reference_normalise(swapped + reference_format(body)[-1]) is None


@pytest.fixture
def case(demo_line, counsellor):
    return Case.objects.create(line=demo_line, created_by=counsellor.staff, data_key=datakey_create())


def test_a_note_is_sealed_under_the_case_key_and_cannot_be_edited(case, counsellor):
    note = CaseNote(case=case, author=counsellor.staff)
    with pytest.raises(PlaintextRefusedError):
        note.body = "The child said"
    seal(note, "body", "The child said")
    note.save()
    stored = CaseNote.objects.select_related("case__data_key").get(pk=note.pk)
    assert unseal(stored, "body") == "The child said"
    with pytest.raises(ValueError, match="append-only"):
        stored.save()


def test_status_changes_are_append_only(case):
    change = CaseStatusChange.objects.create(case=case, from_status="", to_status="open")
    with pytest.raises(ValueError):
        change.save()
