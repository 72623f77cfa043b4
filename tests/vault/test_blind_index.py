"""Blind index: the same sender always gives the same digest, and nothing else does."""

import re

import pytest
from django.db import transaction

from helpline.vault.blind_index import IdentifierKind, blind_index, phone_normalise
from helpline.vault.keys import keyset_generate
from helpline.vault.services import datakey_create
from tests.testapp.models import Note
from tests.vault.conftest import keys_use

PHONE = IdentifierKind.PHONE
HANDLE = IdentifierKind.HANDLE


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+254712345678", None, "+254712345678"),
        ("+254 712 345 678", None, "+254712345678"),
        ("whatsapp:+254712345678", None, "+254712345678"),
        ("WhatsApp: +254 712-345-678", None, "+254712345678"),
        ("0712 345 678", "KE", "+254712345678"),
        ("0712345678", "ke", "+254712345678"),
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("07700 900123", "GB", "+447700900123"),
        ("00 44 7700 900123", "FR", "+447700900123"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, region, e164):
    assert phone_normalise(raw, default_region=region) == e164


def test_the_forms_of_one_number_share_a_digest():
    forms = ["+254712345678", "whatsapp:+254712345678", "+254 (0)712 345 678"]
    digests = {blind_index(kind=PHONE, value=form) for form in forms}
    digests.add(blind_index(kind=PHONE, value="0712-345-678", default_region="KE"))
    assert len(digests) == 1
    assert re.fullmatch(r"[0-9a-f]{64}", digests.pop())


def test_different_numbers_have_different_digests():
    assert blind_index(kind=PHONE, value="+254712345678") != blind_index(kind=PHONE, value="+254712345679")


@pytest.mark.parametrize(
    ("raw", "region"),
    [("12", None), ("not a number", None), ("0712345678", None), ("+25471234", None), ("", "KE"), ("whatsapp:", None)],
)
def test_impossible_numbers_raise_a_value_error_that_names_no_digits(raw, region):
    with pytest.raises(ValueError) as caught:
        blind_index(kind=PHONE, value=raw, default_region=region)
    assert not any(character.isdigit() for character in str(caught.value))


def test_handles_match_whatever_their_case_and_surrounding_space():
    digests = {blind_index(kind=HANDLE, value=form) for form in ["Alice_13", " alice_13 ", "ALICE_13", "ａｌｉｃｅ_13"]}
    assert len(digests) == 1
    assert blind_index(kind=HANDLE, value="alice_14") not in digests


def test_an_empty_handle_and_an_unknown_kind_are_refused():
    with pytest.raises(ValueError):
        blind_index(kind=HANDLE, value="   ")
    with pytest.raises(ValueError):
        blind_index(kind="email", value="a@example.org")


def test_a_phone_and_a_handle_with_the_same_characters_never_collide():
    assert blind_index(kind=PHONE, value="+254712345678") != blind_index(kind=HANDLE, value="+254712345678")


def test_a_different_index_key_gives_different_digests(settings):
    first = blind_index(kind=PHONE, value="+254712345678")
    keys_use(settings, keyset_generate())
    assert blind_index(kind=PHONE, value="+254712345678") != first


def test_the_index_key_is_not_a_kek(settings, keyset):
    # Same KEKs, new index key: digests change, so they depend on the index key alone.
    first = blind_index(kind=HANDLE, value="alice")
    keys_use(settings, {**keyset, "index_key": keyset_generate()["index_key"]})
    assert blind_index(kind=HANDLE, value="alice") != first


@pytest.mark.django_db
def test_the_field_finds_a_repeat_sender_and_refuses_raw_identifiers():
    digest = blind_index(kind=PHONE, value="whatsapp:+254712345678")
    note = Note.objects.create(data_key=datakey_create(), sender_index=digest)
    repeat = blind_index(kind=PHONE, value="0712 345 678", default_region="KE")
    assert list(Note.objects.filter(sender_index=repeat)) == [note]
    with pytest.raises(ValueError), transaction.atomic():
        Note.objects.create(data_key=datakey_create(), sender_index="+254712345678")
    with pytest.raises(ValueError), transaction.atomic():
        list(Note.objects.filter(sender_index="+254712345678"))
