"""KEK rotation: re-wrap data keys under the newest KEK, resumably, without touching field data."""

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from helpline.audit.models import AuditEvent
from helpline.services.keys import data_key_destroy, keys_rotate
from helpline.vault.errors import UnknownKekError
from helpline.vault.keys import kek_entry_generate
from helpline.vault.models import DataKey
from helpline.vault.services import datakey_create, datakeys_rotate, seal, unseal
from tests.testapp.models import Note
from tests.vault.conftest import keys_use, reload


def notes_create(count: int) -> dict:
    texts = {}
    for number in range(count):
        note = Note(data_key=datakey_create())
        seal(note, "body", f"note number {number} about a worried child")
        note.save()
        texts[note.pk] = f"note number {number} about a worried child"
    return texts


def field_bytes() -> dict:
    return {pk: bytes(body.envelope) for pk, body in Note.objects.values_list("pk", "body")}


def assert_all_readable(texts: dict) -> None:
    """Every listed note reads back its text (a shredded note is simply left out of ``texts``)."""
    notes = Note.objects.select_related("data_key").in_bulk(list(texts))
    assert len(notes) == len(texts)
    for pk, text in texts.items():
        assert unseal(notes[pk], "body") == text


def add_new_kek(settings, keyset) -> dict:
    """The operator's first rotation step: a new KEK first in the list, the old ones kept."""
    rotated = {**keyset, "keks": [kek_entry_generate(kek_id="k-new"), *keyset["keks"]]}
    keys_use(settings, rotated)
    return rotated


@pytest.mark.django_db
def test_rotation_rewraps_every_live_key_and_the_old_kek_can_then_go(settings, keyset):
    texts = notes_create(7)
    shredded = Note.objects.first()
    data_key_destroy(data_key=shredded.data_key)
    del texts[shredded.pk]
    old_kek = keyset["keks"][0]["id"]
    before = field_bytes()
    rotated = add_new_kek(settings, keyset)
    assert_all_readable(texts)  # both KEKs configured: old wrappings still open

    result = keys_rotate(batch_size=3)

    assert (result.rewrapped, result.batches, result.failed, result.remaining) == (6, 2, [], 0)
    assert not DataKey.objects.filter(kek_id=old_kek, shredded_at__isnull=True).exists()
    assert DataKey.objects.get(pk=shredded.data_key_id).wrapped == b""  # shredded keys stay destroyed
    assert field_bytes() == before  # field data untouched: rotation never decrypts it
    keys_use(settings, {**rotated, "keks": rotated["keks"][:1]})  # the old KEK is removed
    assert_all_readable(texts)
    events = list(AuditEvent.objects.order_by("id").values_list("action", "details"))
    assert [action for action, _details in events] == ["vault.shred", "vault.keys_rotated"]
    assert events[-1][1] == {"kek_id": "k-new", "rewrapped": 6, "failed": 0, "remaining": 0}


@pytest.mark.django_db
def test_without_rotation_removing_the_old_kek_makes_records_unreadable(settings, keyset):
    texts = notes_create(1)
    rotated = add_new_kek(settings, keyset)
    keys_use(settings, {**rotated, "keks": rotated["keks"][:1]})
    with pytest.raises(UnknownKekError):
        assert_all_readable(texts)


@pytest.mark.django_db
def test_an_interrupted_rotation_resumes_and_a_second_run_is_a_no_op(settings, keyset):
    texts = notes_create(5)
    add_new_kek(settings, keyset)

    first = datakeys_rotate(batch_size=2, max_batches=1)
    assert (first.rewrapped, first.remaining_by_kek) == (2, {keyset["keks"][0]["id"]: 3})
    assert_all_readable(texts)  # a half-rotated database reads fine

    second = datakeys_rotate(batch_size=2)
    assert (second.rewrapped, second.remaining) == (3, 0)
    third = datakeys_rotate(batch_size=2)
    assert (third.rewrapped, third.batches) == (0, 0)
    assert_all_readable(texts)


@pytest.mark.django_db
def test_a_key_under_a_missing_kek_is_reported_and_left_alone(settings, keyset):
    texts = notes_create(2)
    orphan = datakey_create()
    keys_use(settings, {**keyset, "keks": [kek_entry_generate(kek_id="k-lost"), *keyset["keks"]]})
    orphan_under_lost = datakey_create()  # wrapped under k-lost, which is about to disappear
    keys_use(settings, {**keyset, "keks": [kek_entry_generate(kek_id="k-new"), *keyset["keks"]]})

    result = datakeys_rotate(batch_size=10)

    assert result.rewrapped == 3  # the two notes' keys and the orphan
    assert result.failed == [str(orphan_under_lost.pk)]
    assert DataKey.objects.get(pk=orphan_under_lost.pk).kek_id == "k-lost"
    assert DataKey.objects.get(pk=orphan.pk).kek_id == "k-new"
    assert_all_readable(texts)


@pytest.mark.django_db
def test_the_command_prints_counts_and_fails_on_unopenable_keys(settings, keyset):
    notes_create(3)
    rotated = add_new_kek(settings, keyset)
    out = io.StringIO()
    call_command("keys_rotate", "--batch-size", "2", stdout=out)
    assert "Re-wrapped 3 data keys under KEK k-new in 2 batches." in out.getvalue()
    assert "older KEKs can be removed" in out.getvalue()

    keys_use(settings, {**rotated, "keks": [kek_entry_generate(kek_id="k-gone")]})
    datakey_create()  # under k-gone, which the next configuration lacks
    keys_use(settings, {**rotated, "keks": [kek_entry_generate(kek_id="k-newest"), *rotated["keks"]]})
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 data keys could not be unwrapped"):
        call_command("keys_rotate", stdout=out)
    assert "Still under KEK k-gone: 1" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_locked_by_another_worker_are_skipped_and_picked_up_later(settings, keyset):
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("needs SKIP LOCKED")
    texts = notes_create(4)
    add_new_kek(settings, keyset)
    held = DataKey.objects.order_by("pk").first()
    locked, release = threading.Event(), threading.Event()

    def hold_row():
        # Another rotation (or a shred) holding one row in its own transaction.
        try:
            with transaction.atomic():
                DataKey.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    worker = threading.Thread(target=hold_row)
    worker.start()
    try:
        assert locked.wait(timeout=10)
        first = datakeys_rotate(batch_size=2)
    finally:
        release.set()
        worker.join()
    assert first.rewrapped == 3
    assert DataKey.objects.get(pk=held.pk).kek_id == keyset["keks"][0]["id"]

    second = datakeys_rotate(batch_size=2)
    assert (second.rewrapped, second.remaining) == (1, 0)
    assert_all_readable(texts)
    assert unseal(reload(Note.objects.get(data_key=held)), "body").startswith("note number")
