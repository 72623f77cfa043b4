"""The keyed chain: events are linked after commit; the verifier recomputes every link, names the first broken one."""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import RequestFactory, override_settings

from helpline import actions
from helpline.audit import actions as audit_actions
from helpline.audit.chain import GENESIS_HASH, HASHED_FIELDS, link_hash
from helpline.audit.linker import audit_link_pending
from helpline.audit.models import AuditEvent, AuditLink
from helpline.audit.selectors import audit_chain_verify, audit_events_for_record
from helpline.audit.services import audit_record
from helpline.models import Helpline
from helpline.vault.keys import keyset_generate

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


def disable_triggers():
    # DDL is transactional in PostgreSQL: the test's rollback re-enables the triggers.
    with connection.cursor() as cursor:
        # The links' deferred foreign-key checks must run before the tables can be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("ALTER TABLE audit_auditlink DISABLE TRIGGER audit_link_append_only")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def linked(events):
    """Link what was recorded (the periodic job's work) and return the events' links in chain order."""
    audit_link_pending()
    return list(AuditLink.objects.filter(event__in=events).order_by("position"))


def test_empty_trail_verifies():
    assert verify() == "0 events linked, chain intact; 0 waiting for the linker"
    assert verify("--export") == f"{GENESIS_HASH}@0"


def test_events_wait_for_the_linker_then_link_into_a_chain_that_verifies(counsellor, demo_line):
    before = AuditEvent.objects.count()  # the fixtures may already have recorded events
    events = record_several(counsellor, demo_line)
    # Recorded without a lock: no place in the chain yet, and that is not a break.
    assert not AuditLink.objects.filter(event__in=events).exists()
    assert verify().endswith(f"; {before + len(events)} waiting for the linker")
    assert audit_link_pending() == before + len(events)
    chain = list(AuditLink.objects.order_by("position"))
    assert [link.position for link in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == GENESIS_HASH
    for previous, link in zip(chain, chain[1:], strict=False):
        assert link.prev_hash == previous.hash
    assert len({link.hash for link in chain}) == len(chain)
    assert [link.event_id for link in chain[-len(events) :]] == [event.pk for event in events]
    # Values come back from the database exactly as they were hashed.
    stored = AuditEvent.objects.get(pk=events[2].pk)
    assert stored.ip_address == "::ffff:192.0.2.7"
    assert stored.record_type == "helpline.helpline" and stored.record_id == str(demo_line.pk)
    assert stored.details["big"] == 10**30
    assert AuditEvent.objects.get(pk=events[3].pk).ip_address == "fe80::1"
    assert AuditEvent.objects.get(pk=events[4].pk).ip_address is None
    head = chain[-1]
    assert verify() == (
        f"{len(chain)} events linked, chain intact; newest link {head.hash}@{head.position} "
        f"(event {events[-1].pk}); 0 waiting for the linker"
    )
    assert verify("--export") == f"{head.hash}@{head.position}"
    # A second run finds nothing to do.
    assert audit_link_pending() == 0


def test_the_hash_is_keyed_not_a_plain_digest(counsellor, demo_line):
    [link] = linked([audit_record(action="test.event", actor=counsellor, record=demo_line)])
    event = AuditEvent.objects.filter(pk=link.event_id).values("id", *HASHED_FIELDS).get()
    fields = {name: event[name] for name in HASHED_FIELDS}
    arguments = dict(position=link.position, prev_hash=link.prev_hash, linked_at=link.linked_at, event_id=event["id"])
    assert link_hash(**arguments, fields=fields) == link.hash
    # Another installation's key set gives another hash for the very same link.
    other_keys = json.dumps(keyset_generate())
    with override_settings(HELPLINE_KEYS=other_keys):
        assert link_hash(**arguments, fields=fields) != link.hash


def test_verifier_reads_in_chunks_and_still_verifies(counsellor, demo_line):
    linked(record_several(counsellor, demo_line, count=7))
    report = audit_chain_verify(chunk_size=2)
    assert report.intact and report.checked == AuditEvent.objects.count()


def test_event_is_rolled_back_with_the_callers_transaction(counsellor):
    audit_record(action="test.kept", actor=counsellor)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="test.rolled_back", actor=counsellor)
        raise RuntimeError("the action failed")
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    audit_record(action="test.after", actor=counsellor)
    audit_link_pending()
    assert audit_chain_verify().intact
    actions_linked = list(AuditLink.objects.values_list("event__action", flat=True))
    assert actions_linked[-2:] == ["test.kept", "test.after"] and "test.rolled_back" not in actions_linked


@pytest.mark.postgres
def test_changed_event_is_detected_and_named(counsellor, demo_line):
    links = linked(record_several(counsellor, demo_line))
    target = links[3]
    disable_triggers()
    sql("UPDATE audit_auditevent SET actor_username = 'someone-else' WHERE id = %s", [target.event_id])
    error = verify_failure()
    assert error.returncode == 2
    assert f"event {target.event_id} at position {target.position} was changed, moved or forged" in str(error)


@pytest.mark.postgres
def test_changed_event_with_a_recomputed_plain_hash_is_still_detected(counsellor, demo_line):
    """Whoever rewrites an event without the key set cannot make its link verify: the hash is an HMAC."""
    links = linked(record_several(counsellor, demo_line))
    target = links[2]
    disable_triggers()
    sql("UPDATE audit_auditevent SET reason = 'nothing happened' WHERE id = %s", [target.event_id])
    forged = hashlib.sha256(f"{target.prev_hash}nothing happened".encode()).hexdigest()
    sql("UPDATE audit_auditlink SET hash = %s WHERE position = %s", [forged, target.position])
    assert f"event {target.event_id} at position {target.position} was changed" in str(verify_failure())


@pytest.mark.postgres
def test_reordered_events_are_detected(counsellor, demo_line):
    links = linked(record_several(counsellor, demo_line))
    first, second = links[1], links[2]
    disable_triggers()
    # Swap which event stands at which place, keeping every hash as it was.
    sql("UPDATE audit_auditlink SET event_id = -event_id WHERE position IN (%s, %s)", [first.position, second.position])
    sql("UPDATE audit_auditlink SET event_id = %s WHERE position = %s", [second.event_id, first.position])
    sql("UPDATE audit_auditlink SET event_id = %s WHERE position = %s", [first.event_id, second.position])
    error = str(verify_failure())
    assert f"event {second.event_id} at position {first.position} was changed, moved or forged" in error


@pytest.mark.postgres
def test_removed_link_is_detected_at_the_next_one(counsellor, demo_line):
    links = linked(record_several(counsellor, demo_line))
    disable_triggers()
    sql("DELETE FROM audit_auditlink WHERE position = %s", [links[2].position])
    sql("DELETE FROM audit_auditevent WHERE id = %s", [links[2].event_id])
    error = str(verify_failure())
    assert f"event {links[3].event_id} at position {links[3].position} follows a gap" in error
    assert f"position {links[2].position} is missing" in error


@pytest.mark.postgres
def test_renumbered_links_after_a_removal_do_not_link(counsellor, demo_line):
    links = linked(record_several(counsellor, demo_line))
    disable_triggers()
    sql("DELETE FROM audit_auditlink WHERE position = %s", [links[2].position])
    for link in links[3:]:
        sql("UPDATE audit_auditlink SET position = %s WHERE position = %s", [link.position - 1, link.position])
    error = str(verify_failure())
    assert f"event {links[3].event_id} at position {links[2].position} does not link to position" in error


@pytest.mark.postgres
def test_removed_first_link_is_detected(counsellor, demo_line):
    linked(record_several(counsellor, demo_line))
    second = AuditLink.objects.get(position=2)
    disable_triggers()
    sql("DELETE FROM audit_auditlink WHERE position = 1")
    assert f"event {second.event_id} at position 2 follows a gap: position 1 is missing" in str(verify_failure())


@pytest.mark.postgres
def test_an_event_kept_out_of_the_chain_is_reported_past_the_bound(counsellor, demo_line):
    linked(record_several(counsellor, demo_line))
    # As if the linker had stopped an hour ago, or someone slipped an event in and kept it unlinked.
    sql(
        "INSERT INTO audit_auditevent (created_at, action, actor_username, subject_username, record_type, "
        "record_id, reason, details) VALUES (now() - interval '1 hour', 'test.event', '', '', '', '', '', '{}') "
        "RETURNING id"
    )
    late = AuditEvent.objects.filter(link__isnull=True).get()
    error = verify_failure()
    assert error.returncode == 2
    assert f"event {late.pk} has waited for its link since" in str(error)
    assert "longer than 600 s" in str(error)
    # Within a longer bound it is only waiting; once linked the chain is whole again.
    assert verify("--unlinked-bound", "7200").endswith("; 1 waiting for the linker")
    assert audit_link_pending() == 1
    assert "chain intact" in verify()


@pytest.mark.postgres
def test_removed_newest_events_are_caught_by_the_exported_link(counsellor, demo_line):
    links = linked(record_several(counsellor, demo_line))
    noted = verify("--export")
    assert noted == f"{links[-1].hash}@{links[-1].position}"
    assert "chain intact" in verify("--expect", noted)
    more = linked(record_several(counsellor, demo_line, count=2))
    assert "chain intact" in verify("--expect", noted)  # the noted link is still where it was
    disable_triggers()
    sql("DELETE FROM audit_auditlink WHERE position >= %s", [links[-1].position])
    sql("DELETE FROM audit_auditevent WHERE id = ANY(%s)", [[links[-1].event_id] + [m.event_id for m in more]])
    # Linkage alone cannot see a shortened tail...
    assert "chain intact" in verify()
    # ...the link noted outside the database can.
    error = str(verify_failure("--expect", noted))
    end, expected = links[-2].position, links[-1].position
    assert f"the chain ends at position {end}, before the expected position {expected}" in error
    hash_only = noted.split("@")[0]
    assert f"the expected hash {hash_only} is not in the chain" in str(verify_failure("--expect", hash_only))


def test_an_expected_link_at_the_wrong_position_or_malformed_fails(counsellor, demo_line):
    links = linked(record_several(counsellor, demo_line, count=3))
    assert "chain intact" in verify("--expect", links[1].hash)
    error = str(verify_failure("--expect", f"{links[1].hash}@{links[2].position}"))
    assert f"the expected hash stands at position {links[1].position}, not {links[2].position}" in error
    assert "is not in the chain" in str(verify_failure("--expect", f"{'a' * 64}@{links[0].position}"))
    assert "64 hex characters" in str(verify_failure("--expect", "not-a-hash"))


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
    audit_link_pending()
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
    audit_link_pending()
    assert audit_chain_verify().intact


def test_an_unregistered_action_is_refused_and_nothing_is_written(counsellor):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="not registered"):
        audit_record(action="contact.teleported", actor=counsellor)
    assert AuditEvent.objects.count() == before


def test_the_periodic_runner_links_what_was_recorded(counsellor):
    from helpline.periodic import periodic_run_due

    event = audit_record(action="test.event", actor=counsellor)
    assert "audit.link" in periodic_run_due()
    assert AuditLink.objects.filter(event=event).exists()
    assert audit_chain_verify().intact
