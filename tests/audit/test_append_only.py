"""Audit events can be added, never changed or removed: by the ORM anywhere, by any SQL on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from helpline.audit.linker import audit_link_pending
from helpline.audit.models import AppendOnlyError, AuditEvent, AuditLink
from helpline.audit.selectors import audit_chain_verify
from helpline.audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(counsellor):
    return audit_record(action="test.event", actor=counsellor, reason="original")


def test_saving_an_existing_event_is_refused(event):
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    fetched = AuditEvent.objects.get(pk=event.pk)
    with pytest.raises(AppendOnlyError):
        fetched.save(update_fields=["reason"])
    assert AuditEvent.objects.get(pk=event.pk).reason == "original"


def test_deleting_an_event_is_refused(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent._base_manager.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_bulk_writes_are_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent._base_manager.filter(pk=event.pk).update(reason="rewritten")
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["reason"])
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update_or_create(pk=event.pk, defaults={"reason": "rewritten"})
    assert AuditEvent.objects.get(pk=event.pk).reason == "original"


def test_events_cannot_be_added_outside_audit_record(event):
    fields = {"action": "test.forged", "created_at": event.created_at}
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.create(**fields)
    with pytest.raises(AppendOnlyError):
        AuditEvent(**fields).save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(**fields)])
    assert not AuditEvent.objects.filter(action="test.forged").exists()
    assert audit_chain_verify().intact


def test_links_are_made_only_by_the_linker_and_never_changed(event):
    forged = {"position": 1, "event": event, "prev_hash": "1" * 64, "hash": "2" * 64, "linked_at": event.created_at}
    with pytest.raises(AppendOnlyError):
        AuditLink.objects.create(**forged)
    with pytest.raises(AppendOnlyError):
        AuditLink.objects.bulk_create([AuditLink(**forged)])
    assert not AuditLink.objects.exists()
    audit_link_pending()
    link = AuditLink.objects.get(event=event)
    link.hash = "3" * 64
    for attempt in (
        link.save,
        link.delete,
        AuditLink.objects.all().delete,
        lambda: AuditLink.objects.update(hash="3" * 64),
        lambda: AuditLink.objects.bulk_update([link], ["hash"]),
    ):
        with pytest.raises(AppendOnlyError):
            attempt()
    assert audit_chain_verify().intact


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
        "UPDATE audit_auditlink SET hash = 'forged' WHERE event_id = %s",
        "DELETE FROM audit_auditlink WHERE event_id = %s",
    ],
)
def test_postgresql_trigger_refuses_raw_update_and_delete(event, sql):
    audit_link_pending()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.reason == "original"
    assert audit_chain_verify().intact


@pytest.mark.postgres
def test_postgresql_trigger_refuses_even_a_statement_that_matches_no_row(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = '' WHERE false")
