"""Issue 9 item 3, repeated: the application's own database role tries to rewrite the audit trail, and cannot.

The role is created by the test with exactly the production grants
(``manage.py db_grant_app_role``), inside the test's transaction, so it vanishes
with the rollback. ``SET ROLE`` inside a savepoint is undone with the savepoint.
"""

import hashlib
import hmac
import json
import secrets

import pytest
from django.db import DatabaseError, connection, transaction

from helpline.audit.chain import GENESIS_HASH, canonical_json
from helpline.audit.checks import audit_role_cannot_rewrite_the_trail
from helpline.audit.linker import audit_link_pending
from helpline.audit.models import AuditEvent, AuditLink
from helpline.audit.roles import app_role_grant_statements
from helpline.audit.selectors import audit_chain_verify
from helpline.audit.services import audit_record
from tests.audit.roles import role_name

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def app_role():
    name = role_name("probe")
    sql(f"CREATE ROLE {name} NOLOGIN")
    for statement in app_role_grant_statements(name):
        sql(statement)
    return name


@pytest.fixture
def trail(counsellor, demo_line):
    for n in range(3):
        audit_record(action="test.event", actor=counsellor, record=demo_line, reason=f"original {n}")
    audit_link_pending()
    # Any deferred foreign-key checks run now, so the attacks below meet only the protections.
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    return list(AuditLink.objects.order_by("position"))


def attempt_as(role, statement, params=()):
    """Run one statement as ``role``; return the database's refusal (or None if it was allowed)."""
    try:
        with transaction.atomic():
            sql(f"SET ROLE {role}")
            sql(statement, params)
            sql("RESET ROLE")
    except DatabaseError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only", "must be owner"),
        ("ALTER TABLE audit_auditlink DISABLE TRIGGER audit_link_append_only", "must be owner"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER audit_event_append_only ON audit_auditevent", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("UPDATE audit_auditevent SET reason = 'nothing happened'", "permission denied"),
        ("UPDATE audit_auditlink SET hash = 'x'", "permission denied"),
        ("DELETE FROM audit_auditevent", "permission denied"),
        ("DELETE FROM audit_auditlink", "permission denied"),
        ("TRUNCATE audit_auditevent, audit_auditlink", "permission denied"),
        ("ALTER TABLE audit_auditevent OWNER TO CURRENT_USER", "must be owner"),
        (
            "CREATE FUNCTION audit_probe_rewrite() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.reason := 'rewritten'; RETURN NEW; END $$",
            "permission denied",
        ),
    ],
)
def test_the_application_role_cannot_switch_off_or_get_around_append_only(app_role, trail, statement, refusal):
    refused = attempt_as(app_role, statement)
    assert refused is not None and refusal in refused
    assert list(AuditEvent.objects.filter(action="test.event").values_list("reason", flat=True).order_by("id")) == [
        "original 0",
        "original 1",
        "original 2",
    ]
    assert audit_chain_verify().intact


def test_the_application_role_can_record_and_link_with_its_grants(app_role, trail):
    with transaction.atomic():
        sql(f"SET ROLE {app_role}")
        event = audit_record(action="test.event", reason="as the application")
        assert audit_link_pending() == 1
        sql("RESET ROLE")
    report = audit_chain_verify()
    assert report.intact and report.last_event_id == event.pk and report.checked == AuditLink.objects.count()


def _plain_digest(previous: str, payload: str) -> str:
    return hashlib.sha256(f"{previous}{payload}".encode()).hexdigest()


def _guessed_key_digest(previous: str, payload: str) -> str:
    return hmac.new(secrets.token_bytes(32), f"{previous}{payload}".encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("forge", [_plain_digest, _guessed_key_digest])
def test_an_event_forged_into_the_chain_without_the_key_does_not_verify(app_role, trail, forge):
    """The role may add rows: it adds a false event and links it as best it can without the key set."""
    head = trail[-1]
    with transaction.atomic():
        sql(f"SET ROLE {app_role}")
        [(forged_id,)] = sql(
            "INSERT INTO audit_auditevent (created_at, action, actor_username, subject_username, record_type, "
            "record_id, reason, details) VALUES (now(), 'auth.logout', 'supervisor', '', '', '', '', '{}') "
            "RETURNING id"
        )
        payload = canonical_json({"event": forged_id, "position": head.position + 1, "prev_hash": head.hash})
        sql(
            "INSERT INTO audit_auditlink (position, event_id, prev_hash, hash, linked_at) "
            "VALUES (%s, %s, %s, %s, now())",
            [head.position + 1, forged_id, head.hash, forge(head.hash, payload)],
        )
        sql("RESET ROLE")
    report = audit_chain_verify()
    assert not report.intact
    assert report.broken_id == forged_id and report.broken_position == head.position + 1
    assert "was changed, moved or forged" in report.problem


def test_a_rewritten_history_without_the_key_does_not_verify(trail):
    """Even the owner, trigger off, rewriting every event and recomputing a plain SHA-256 chain, is caught."""
    sql("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    sql("ALTER TABLE audit_auditlink DISABLE TRIGGER audit_link_append_only")
    sql("UPDATE audit_auditevent SET reason = 'nothing happened'")
    previous = GENESIS_HASH
    for link in trail:
        digest = hashlib.sha256(f"{previous}{json.dumps({'event': link.event_id})}".encode()).hexdigest()
        sql(
            "UPDATE audit_auditlink SET prev_hash = %s, hash = %s WHERE position = %s",
            [previous, digest, link.position],
        )
        previous = digest
    report = audit_chain_verify()
    assert not report.intact and report.broken_position == 1


def test_the_deploy_check_accepts_the_application_role(app_role, trail):
    with transaction.atomic():
        sql(f"SET ROLE {app_role}")
        assert audit_role_cannot_rewrite_the_trail() == []
        sql("RESET ROLE")


def test_the_deploy_check_fails_for_a_superuser():
    [(superuser,)] = sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    assert superuser  # the suite connects as one
    errors = audit_role_cannot_rewrite_the_trail()
    assert {error.id for error in errors} == {"helpline.audit.E003"}
    assert "switch off the append-only trigger" in errors[0].msg


def test_the_deploy_check_fails_for_a_role_that_owns_the_audit_table(trail):
    owner = role_name("owner")
    sql(f"CREATE ROLE {owner} NOLOGIN")
    sql(f"ALTER TABLE audit_auditevent OWNER TO {owner}")
    with transaction.atomic():
        sql(f"SET ROLE {owner}")
        # What the check is about: this role can switch the trigger off.
        sql("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        errors = audit_role_cannot_rewrite_the_trail()
        sql("RESET ROLE")
    assert [error.id for error in errors] == ["helpline.audit.E004"]
    assert "audit_auditevent" in errors[0].msg


def test_the_deploy_check_fails_for_a_member_of_the_owning_role(app_role, trail):
    owner = role_name("owner")
    sql(f"CREATE ROLE {owner} NOLOGIN")
    sql(f"ALTER TABLE audit_auditlink OWNER TO {owner}")
    sql(f"GRANT {owner} TO {app_role}")
    with transaction.atomic():
        sql(f"SET ROLE {app_role}")
        errors = audit_role_cannot_rewrite_the_trail()
        sql("RESET ROLE")
    assert [error.id for error in errors] == ["helpline.audit.E004"]
    assert "audit_auditlink" in errors[0].msg


def test_the_deploy_check_fails_for_a_role_granted_more_than_it_needs(app_role, trail):
    sql(f"GRANT UPDATE, TRUNCATE ON audit_auditevent TO {app_role}")
    with transaction.atomic():
        sql(f"SET ROLE {app_role}")
        errors = audit_role_cannot_rewrite_the_trail()
        sql("RESET ROLE")
    assert [error.id for error in errors] == ["helpline.audit.E005"]
    assert "holds UPDATE, TRUNCATE on audit_auditevent" in errors[0].msg
