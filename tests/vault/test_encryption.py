"""Field encryption: round trips, and every way a ciphertext can be wrong fails loudly."""

import pickle
import uuid

import pytest
from django.core import checks
from django.db import connection, models, transaction
from django.template import Context, Template
from django.test.utils import isolate_apps
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from helpline.vault import crypto
from helpline.vault.errors import (
    CiphertextInvalidError,
    CiphertextMismatchError,
    DataKeyShreddedError,
    DataKeyUnwrapError,
    NotSealableError,
    PlaintextRefusedError,
    UnknownKekError,
    VaultError,
)
from helpline.vault.fields import EncryptedTextField
from helpline.vault.keys import kek_entry_generate, keys_get
from helpline.vault.models import UNWRAPPED_MEMO, DataKey
from helpline.vault.services import _unwrap, datakey_create, datakey_shred, seal, unseal
from helpline.vault.values import Sealed
from tests.testapp.models import Note, NoteComment
from tests.vault.conftest import BODY, keys_use, reload

pytestmark = pytest.mark.django_db


def raw_column(table: str, column: str, pk) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return bytes(cursor.fetchone()[0])


def raw_set(table: str, column: str, pk, value: bytes) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def assert_no_secret_in(error: Exception, *secrets: bytes | str) -> None:
    message = str(error)
    for secret in secrets:
        if isinstance(secret, bytes):
            assert secret.hex() not in message
            assert repr(secret)[2:-1][:24] not in message
        else:
            assert secret not in message


# --- round trips --------------------------------------------------------------------


def test_sealed_fields_read_back_after_a_database_round_trip(note):
    loaded = reload(note)
    assert unseal(loaded, "body") == BODY
    assert unseal(loaded, "summary") == "Sextortion; child safe at home tonight"
    assert isinstance(loaded.body, Sealed)


def test_a_child_record_seals_under_its_parents_key(note):
    comment = NoteComment(note=note)
    seal(comment, "body", "Called back, child is with a trusted adult")
    comment.save()
    assert unseal(reload(comment), "body") == "Called back, child is with a trusted adult"


def test_a_field_never_sealed_reads_as_empty_text(db):
    note = Note.objects.create(data_key=datakey_create())
    assert unseal(reload(note), "summary") == ""


def test_the_same_text_sealed_twice_gives_different_ciphertexts(note):
    first = note.body.envelope
    seal(note, "body", BODY)
    assert note.body.envelope != first
    assert unseal(note, "body") == BODY


def test_the_database_holds_no_plaintext_and_no_raw_data_key(note):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM testapp_note WHERE id = %s", [note.pk])
        note_row = cursor.fetchone()
        cursor.execute("SELECT * FROM vault_datakey WHERE id = %s", [note.data_key_id])
        key_row = cursor.fetchone()
    raw_key = crypto.datakey_unwrap(
        kek=keys_get().kek(note.data_key.kek_id),
        wrapped=bytes(note.data_key.wrapped),
        datakey_id=note.data_key_id,
    )
    for value in (*note_row, *key_row):
        data = bytes(value) if isinstance(value, memoryview | bytes) else str(value).encode()
        for secret in (BODY.encode(), b"Sextortion", b"share my photos"):
            assert secret not in data
        assert raw_key not in data
    assert raw_column("testapp_note", "body", note.pk)[0] == crypto.VERSION


@hypothesis_settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text())
def test_any_unicode_text_round_trips(db, text):
    note = Note(data_key=datakey_create())
    seal(note, "body", text)
    assert unseal(note, "body") == text


@hypothesis_settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=0, max_size=3000))
def test_any_unicode_text_round_trips_through_the_database(db, text):
    note = Note(data_key=datakey_create())
    seal(note, "body", text)
    note.save()
    assert unseal(reload(note), "body") == text


@pytest.mark.parametrize("text", ["", "\x00", "é" * 5, "😀" * 70_000, "long note " * 200_000])
def test_edge_texts_round_trip(db, text):
    note = Note(data_key=datakey_create())
    seal(note, "body", text)
    note.save()
    assert unseal(reload(note), "body") == text


def test_text_with_a_lone_surrogate_is_refused_without_echoing_it(db):
    note = Note(data_key=datakey_create())
    with pytest.raises(PlaintextRefusedError) as caught:
        seal(note, "body", "secret words \ud800")
    assert "secret words" not in str(caught.value)


# --- misuse is refused ----------------------------------------------------------------


@pytest.mark.parametrize("value", [BODY, BODY.encode(), memoryview(BODY.encode()), 42])
def test_assigning_anything_but_a_sealed_value_is_refused(note, value):
    with pytest.raises(PlaintextRefusedError):
        note.body = value
    assert unseal(note, "body") == BODY


def test_constructing_a_record_with_plaintext_is_refused(db):
    with pytest.raises(PlaintextRefusedError):
        Note(data_key=datakey_create(), body=BODY)


def test_queryset_writes_and_lookups_with_plaintext_are_refused(note):
    # Each in a savepoint: a refused update marks its transaction for rollback, as any failed write does.
    with pytest.raises(PlaintextRefusedError), transaction.atomic():
        Note.objects.filter(pk=note.pk).update(body=BODY)
    with pytest.raises(PlaintextRefusedError), transaction.atomic():
        list(Note.objects.filter(body=BODY))
    assert unseal(reload(note), "body") == BODY


def test_a_required_encrypted_field_must_be_sealed_before_saving(note):
    with pytest.raises(NotSealableError):
        NoteComment(note=note).save()


def test_sealing_needs_a_data_key_and_an_encrypted_field(db):
    with pytest.raises(NotSealableError):
        seal(Note(), "body", "text")
    with pytest.raises(NotSealableError):
        seal(Note(data_key=datakey_create()), "title", "text")


def test_sealing_under_a_shredded_key_is_refused(note):
    datakey_shred(data_key=note.data_key)
    with pytest.raises(DataKeyShreddedError):
        seal(note, "body", "new text")


def test_a_sealed_attribute_never_renders_as_ciphertext(note):
    rendered = Template("{{ note.body }}").render(Context({"note": note}))
    assert rendered == "[encrypted]"
    assert repr(note.body) == f"<Sealed {len(note.body.envelope)} bytes>"


def test_a_model_with_an_auto_increment_key_fails_the_system_check():
    with isolate_apps("tests.testapp"):

        class Unbound(models.Model):  # noqa: DJ008
            data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT)
            body = EncryptedTextField()

            class Meta:
                app_label = "testapp"

        errors = Unbound._meta.get_field("body").check()
    assert [error.id for error in errors] == ["vault.E001"]
    assert all(isinstance(error, checks.Error) for error in errors)


def test_a_data_key_path_that_is_no_relation_fails_the_system_check():
    with isolate_apps("tests.testapp"):

        class Misrouted(models.Model):  # noqa: DJ008
            id = models.UUIDField(primary_key=True, default=uuid.uuid4)
            body = EncryptedTextField(data_key="owner.data_key")

            class Meta:
                app_label = "testapp"

        errors = Misrouted._meta.get_field("body").check()
    assert [error.id for error in errors] == ["vault.E002"]


# --- wrong keys, wrong places, damaged bytes ---------------------------------------------


def test_a_different_kek_under_the_same_id_fails(note, settings, keyset):
    impostor = kek_entry_generate(kek_id=keyset["keks"][0]["id"])
    keys_use(settings, {**keyset, "keks": [impostor]})
    with pytest.raises(DataKeyUnwrapError) as caught:
        unseal(reload(note), "body")
    assert_no_secret_in(caught.value, BODY, note.body.envelope)


def test_a_kek_removed_from_the_configuration_fails(note, settings, keyset):
    keys_use(settings, {**keyset, "keks": [kek_entry_generate(kek_id="k-other")]})
    with pytest.raises(UnknownKekError):
        unseal(reload(note), "body")


def test_a_wrapped_key_moved_to_another_data_key_row_fails(note):
    other = datakey_create()
    raw_set("vault_datakey", "wrapped", other.pk, bytes(note.data_key.wrapped))
    victim = Note(data_key=DataKey.objects.get(pk=other.pk))
    with pytest.raises(DataKeyUnwrapError):
        seal(victim, "body", "text")


def test_a_ciphertext_copied_to_another_row_under_the_same_key_fails(note):
    # Same data key, so only the associated data (the primary key) tells them apart.
    twin = Note(data_key=note.data_key)
    seal(twin, "body", "the twin's own text")
    twin.save()
    raw_set("testapp_note", "body", twin.pk, raw_column("testapp_note", "body", note.pk))
    with pytest.raises(CiphertextMismatchError) as caught:
        unseal(reload(twin), "body")
    assert_no_secret_in(caught.value, BODY, note.body.envelope)


def test_a_ciphertext_copied_to_another_row_with_its_own_key_fails(note):
    other = Note(data_key=datakey_create())
    seal(other, "body", "other text")
    other.save()
    raw_set("testapp_note", "body", other.pk, raw_column("testapp_note", "body", note.pk))
    with pytest.raises(CiphertextMismatchError):
        unseal(reload(other), "body")


def test_a_ciphertext_copied_to_another_field_of_the_same_row_fails(note):
    raw_set("testapp_note", "summary", note.pk, raw_column("testapp_note", "body", note.pk))
    with pytest.raises(CiphertextMismatchError):
        unseal(reload(note), "summary")


def test_a_ciphertext_copied_to_another_model_under_the_same_key_fails(note):
    comment = NoteComment(note=note)
    seal(comment, "body", "comment")
    comment.save()
    raw_set("testapp_notecomment", "body", comment.pk, raw_column("testapp_note", "body", note.pk))
    with pytest.raises(CiphertextMismatchError):
        unseal(reload(comment), "body")


def test_a_record_whose_primary_key_changed_fails(note):
    note.pk = uuid.uuid4()
    with pytest.raises(CiphertextMismatchError):
        unseal(note, "body")


@pytest.mark.parametrize("keep", [0, 1, 13, crypto.MIN_ENVELOPE_BYTES - 1, -1])
def test_a_truncated_ciphertext_fails(note, keep):
    envelope = raw_column("testapp_note", "body", note.pk)
    raw_set("testapp_note", "body", note.pk, envelope[:keep])
    with pytest.raises(VaultError) as caught:
        unseal(reload(note), "body")
    expected = CiphertextInvalidError if len(envelope[:keep]) < crypto.MIN_ENVELOPE_BYTES else CiphertextMismatchError
    assert isinstance(caught.value, expected)
    assert_no_secret_in(caught.value, BODY, envelope)


@pytest.mark.parametrize("position", ["version", "nonce", "ciphertext", "tag"])
def test_a_flipped_bit_anywhere_fails(note, position):
    envelope = bytearray(raw_column("testapp_note", "body", note.pk))
    index = {"version": 0, "nonce": 5, "ciphertext": crypto.HEADER_BYTES + 3, "tag": len(envelope) - 1}[position]
    envelope[index] ^= 0x01
    raw_set("testapp_note", "body", note.pk, bytes(envelope))
    with pytest.raises(VaultError) as caught:
        unseal(reload(note), "body")
    assert_no_secret_in(caught.value, BODY, bytes(envelope))


def test_a_flipped_bit_in_the_wrapped_data_key_fails(note):
    wrapped = bytearray(raw_column("vault_datakey", "wrapped", note.data_key_id))
    wrapped[20] ^= 0x80
    raw_set("vault_datakey", "wrapped", note.data_key_id, bytes(wrapped))
    with pytest.raises(DataKeyUnwrapError):
        unseal(reload(note), "body")


def test_pickling_a_record_never_carries_its_unwrapped_key(note):
    loaded = reload(note)
    assert unseal(loaded, "body") == BODY
    assert UNWRAPPED_MEMO in loaded.data_key.__dict__  # remembered for this object's lifetime
    pickled = pickle.dumps(loaded)
    assert _unwrap(loaded.data_key) not in pickled
    restored = pickle.loads(pickled)  # noqa: S301 - our own bytes
    assert UNWRAPPED_MEMO not in restored.data_key.__dict__
    assert unseal(restored, "body") == BODY
