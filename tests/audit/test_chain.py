"""The hash chain: events link, the verifier recomputes them exactly, and names the first broken link."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import RequestFactory

from helpline import actions
from helpline.audit import actions as audit_actions
from helpline.audit.chain import GENESIS_HASH
from helpline.audit.models import AuditEvent
from helpline.audit.selectors import audit_chain_verify, audit_events_for_record
from helpline.audit.services import audit_record
from helpline.models import Helpline

pytestmark = pytest.mark.django_db


def verify(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue().strip()


def verify_failure(*args) -> CommandError:
    with pytest.raises(CommandError) as excinfo:
        verify(*args)
    return excinfo.value


def record_several(counsellor, demo_line, count=6):
    request = RequestFactory().get("/")
    addresses = ["10.0.0.1", "2001:DB8::1", "::ffff:192.0.2.7", "fe80::1%eth0", "not an address", "192.0.2.1"]
    events = []
    for n in range(count):
        request.META["REMOTE_ADDR"] = addresses[n % len(addresses)]
        events.append(
            audit_record(
                action=actions.CONTENT_READ,
                actor=counsellor,
                subject=counsellor if n % 2 else None,
                record=demo_line,
                request=request,
                reason=f"reason {n} é",
                details={"n": n, "big": 10**30, "fields": ["summary", "body"], "nested": {"b": True, "a": None}},
            )
        )
    return events


def disable_trigger():
    # DDL is transactional in PostgreSQL: the test's rollback re-enables the trigger.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")


def test_empty_trail_verifies():
    assert verify() == "0 events, chain intact"


def test_events_link_into_a_chain_that_verifies(counsellor, demo_line):
    before = AuditEvent.objects.count()  # the fixtures may already have recorded events
    events = record_several(counsellor, demo_line)
    chain = list(AuditEvent.objects.order_by("id"))
    assert chain[0].prev_hash == GENESIS_HASH
    for previous, event in zip(chain, chain[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert len({event.hash for event in chain}) == len(chain)
    # Values come back from the database exactly as they were hashed.
    stored = AuditEvent.objects.get(pk=events[2].pk)
    assert stored.ip_address == "::ffff:192.0.2.7"
    assert stored.record_type == "helpline.helpline" and stored.record_id == str(demo_line.pk)
    assert stored.details["big"] == 10**30
    assert AuditEvent.objects.get(pk=events[3].pk).ip_address == "fe80::1"
    assert AuditEvent.objects.get(pk=events[4].pk).ip_address is None
    summary = verify()
    assert summary.startswith(f"{before + len(events)} events, chain intact; last event {events[-1].pk}")
    assert summary.endswith(events[-1].hash)


def test_verifier_reads_in_chunks_and_still_verifies(counsellor, demo_line):
    record_several(counsellor, demo_line, count=7)
    report = audit_chain_verify(chunk_size=2)
    assert report.intact and report.checked == AuditEvent.objects.count()


def test_event_is_rolled_back_with_the_callers_transaction(counsellor):
    audit_record(action="test.kept", actor=counsellor)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="test.rolled_back", actor=counsellor)
        raise RuntimeError("the action failed")
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    audit_record(action="test.after", actor=counsellor)
    assert audit_chain_verify().intact


@pytest.mark.postgres
def test_changed_row_is_detected_and_named(counsellor, demo_line):
    events = record_several(counsellor, demo_line)
    target = events[3]
    disable_trigger()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_username = 'someone-else' WHERE id = %s", [target.pk])
    error = verify_failure()
    assert error.returncode == 2
    assert f"event {target.pk} was changed" in str(error)


@pytest.mark.postgres
def test_changed_row_with_recomputed_hash_breaks_the_next_link(counsellor, demo_line):
    events = record_several(counsellor, demo_line)
    disable_trigger()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET hash = %s WHERE id = %s", ["f" * 64, events[2].pk])
    error = verify_failure()
    # The altered event's own hash no longer matches its contents.
    assert f"event {events[2].pk} was changed" in str(error)


@pytest.mark.postgres
def test_removed_row_is_detected_at_the_next_event(counsellor, demo_line):
    events = record_several(counsellor, demo_line)
    disable_trigger()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    error = verify_failure()
    assert f"event {events[3].pk} does not link to event {events[1].pk}" in str(error)


@pytest.mark.postgres
def test_removed_first_event_is_detected(counsellor, demo_line):
    record_several(counsellor, demo_line)
    first, second = AuditEvent.objects.order_by("id")[:2]
    disable_trigger()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [first.pk])
    assert f"event {second.pk} does not start the chain" in str(verify_failure())


@pytest.mark.postgres
def test_removed_newest_events_are_caught_by_an_expected_hash(counsellor, demo_line):
    events = record_several(counsellor, demo_line)
    noted = events[-2].hash
    assert "chain intact" in verify("--expect", noted)
    disable_trigger()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id >= %s", [events[-2].pk])
    # Linkage alone cannot see a shortened tail...
    assert "chain intact" in verify()
    # ...the hash noted outside the database can.
    assert f"expected hash {noted} is not in the chain" in str(verify_failure("--expect", noted))


def test_reason_is_masked_and_details_are_stored_as_hashed(counsellor):
    event = audit_record(
        action="test.reason",
        actor=counsellor,
        reason="Child called from +44 7700 900123, mail kid@example.org",
        details={"pair": (1, 2)},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert "7700" not in stored.reason and "example.org" not in stored.reason
    assert stored.details == {"pair": [1, 2]}
    assert audit_chain_verify().intact


@pytest.mark.parametrize(
    ("details", "error"),
    [
        ({"duration": 0.25}, TypeError),  # floats do not round-trip through jsonb
        ({"when": object()}, TypeError),
        ({1: "non-string key"}, TypeError),
        ({"body": "x" * 5000}, ValueError),
        ({"nul": "a\x00b"}, ValueError),
    ],
)
def test_unsafe_details_are_refused(details, error):
    with pytest.raises(error):
        audit_record(action="test.details", details=details)
    assert not AuditEvent.objects.filter(action="test.details").exists()


@pytest.mark.parametrize("action", ["", "login", "Auth.Login", "auth login", "a." + "x" * 70])
def test_malformed_action_names_are_refused(action):
    with pytest.raises(ValueError):
        audit_record(action=action)


def test_unsaved_record_is_refused():
    with pytest.raises(ValueError):
        audit_record(action="test.record", record=Helpline(slug="x", name="x"))


def test_events_for_a_record(counsellor, demo_line):
    before = audit_events_for_record(record=demo_line).count()  # the line's creation
    record_several(counsellor, demo_line, count=3)
    other = Helpline.objects.create(slug="other", name="Other", languages=["en"])
    audit_record(action=actions.CONTENT_READ, actor=counsellor, record=other)
    assert audit_events_for_record(record=demo_line).count() == before + 3
    assert [e.record_id for e in audit_events_for_record(record=other)] == [str(other.pk)]


def test_every_registered_action_is_well_formed_labelled_and_recordable():
    registered = audit_actions.actions_registered()
    # Each app's constants are registered: the helpline's, the audit app's, the integrations'.
    for module in (actions, audit_actions):
        names = {value for key, value in vars(module).items() if key.isupper() and isinstance(value, str)}
        assert names <= set(registered)
    assert "twilio.signature_rejected" in registered
    for name, label in registered.items():
        assert str(label) and str(label) != name
        audit_record(action=name)
    assert audit_chain_verify().intact


def test_an_unregistered_action_is_refused_and_nothing_is_written(counsellor):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="not registered"):
        audit_record(action="contact.teleported", actor=counsellor)
    assert AuditEvent.objects.count() == before
