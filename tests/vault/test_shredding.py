"""Crypto-shredding: once a data key is destroyed, its content is gone for good."""

import pickle

import pytest
from django.db import connection
from django.template import Context, Template
from django.utils import translation

from helpline.audit.models import AuditEvent
from helpline.services.keys import data_key_destroy
from helpline.vault.models import DataKey
from helpline.vault.services import datakey_shred, datakeys_rotate, seal, unseal
from helpline.vault.values import SHREDDED, Shredded, is_shredded
from tests.testapp.models import NoteComment
from tests.vault.conftest import reload

pytestmark = pytest.mark.django_db


def test_every_field_under_a_shredded_key_reads_as_shredded(note, person):
    comment = NoteComment(note=note)
    seal(comment, "body", "a comment under the same key")
    comment.save()

    data_key_destroy(data_key=note.data_key, actor=person, reason="retention period over")

    loaded = reload(note)
    assert unseal(loaded, "body") is SHREDDED
    assert unseal(loaded, "summary") is SHREDDED
    assert unseal(reload(comment), "body") is SHREDDED
    assert unseal(note, "body") is SHREDDED  # the caller's in-memory copy lost its key too
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_id, event.reason) == ("vault.shred", person.pk, "retention period over")
    assert (event.record_type, event.record_id) == ("vault.datakey", str(note.data_key_id))
    assert event.details == {"data_key": str(note.data_key_id)}


def test_the_wrapped_key_is_gone_from_the_database(note):
    datakey_shred(data_key=note.data_key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT wrapped, shredded_at FROM vault_datakey WHERE id = %s", [note.data_key_id])
        wrapped, shredded_at = cursor.fetchone()
    assert bytes(wrapped) == b""
    assert shredded_at is not None


def test_shredding_is_final_and_idempotent(note):
    first = data_key_destroy(data_key=note.data_key)
    again = data_key_destroy(data_key=DataKey.objects.get(pk=note.data_key_id))
    assert again.shredded_at == first.shredded_at
    assert AuditEvent.objects.filter(action="vault.shred").count() == 1
    datakeys_rotate()  # rotation leaves destroyed keys destroyed
    assert DataKey.objects.get(pk=note.data_key_id).wrapped == b""
    assert unseal(reload(note), "body") is SHREDDED


def test_a_shredded_value_renders_as_a_translated_notice_in_a_template(note):
    datakey_shred(data_key=note.data_key)
    body = unseal(reload(note), "body")
    template = Template("<p>{{ body }}</p>")
    assert template.render(Context({"body": body})) == "<p>[content destroyed]</p>"
    with translation.override("fr"):
        assert "[" in template.render(Context({"body": body}))


def test_the_sentinel_is_a_falsy_singleton():
    assert not SHREDDED
    assert Shredded() is SHREDDED
    assert pickle.loads(pickle.dumps(SHREDDED)) is SHREDDED  # noqa: S301 - our own bytes
    assert is_shredded(SHREDDED) and not is_shredded("")
    assert str(SHREDDED) == "[content destroyed]"
