"""Retention: each line's policy, and the run that crypto-shreds exactly what is past its deadline."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import CaseContact, CaseStatus, ContactWrapup, RetentionPolicy
from cases.services.retention import RetentionPolicyError, retention_policy_for, retention_policy_set, retention_run
from helpline.audit.models import AuditEvent
from helpline.models import Contact
from helpline.periodic import periodic_jobs
from helpline.vault.services import seal, unseal
from helpline.vault.values import SHREDDED
from helpline.webchat.services import webchat_endpoint_ensure
from tests.cases.supervision_world import case_make, contact_age, contact_link, is_shredded
from tests.conftest import login_verified
from tests.helpline.console.conftest import child_writes

NOW_SLACK = timedelta(minutes=5)


def policy(line, *, cases, transcripts):
    return RetentionPolicy.objects.update_or_create(
        line=line, defaults={"closed_case_days": cases, "transcript_days": transcripts}
    )[0]


@pytest.fixture
def endpoint(demo_line):
    return webchat_endpoint_ensure(line=demo_line)


# --- the policy ------------------------------------------------------------------------


def test_a_line_without_a_policy_keeps_the_defaults(demo_line):
    found = retention_policy_for(demo_line)
    assert found.pk is None
    assert found.transcript_days <= found.closed_case_days


def test_an_administrator_sets_the_policy_and_it_is_audited(demo_line, admin_user):
    retention_policy_set(actor=admin_user, line=demo_line, closed_case_days=365, transcript_days=0, reason="DPIA")
    demo_line.refresh_from_db()
    assert (demo_line.retention_policy.closed_case_days, demo_line.retention_policy.transcript_days) == (365, 0)
    event = AuditEvent.objects.get(action="retention.policy_changed")
    assert event.actor_id == admin_user.pk
    assert event.details["after"] == {"closed_case_days": 365, "transcript_days": 0}


@pytest.mark.parametrize("who", ["supervisor", "counsellor", "authority", "outsider"])
def test_nobody_else_changes_the_policy(request, demo_line, who):
    with pytest.raises(PermissionError):
        retention_policy_set(actor=request.getfixturevalue(who), line=demo_line, closed_case_days=0, transcript_days=0)
    assert not RetentionPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="retention.policy_changed").exists()


@pytest.mark.parametrize(("cases", "transcripts"), [(-1, 0), (10, 11), (0, -5)])
def test_periods_are_never_negative_and_transcripts_never_outlive_cases(demo_line, admin_user, cases, transcripts):
    with pytest.raises(RetentionPolicyError):
        retention_policy_set(actor=admin_user, line=demo_line, closed_case_days=cases, transcript_days=transcripts)
    assert not RetentionPolicy.objects.exists()


# --- the run ---------------------------------------------------------------------------


def test_an_unlinked_transcript_past_its_deadline_is_shredded_and_its_counts_stay(demo_line, endpoint):
    policy(demo_line, cases=30, transcripts=7)
    old = contact_age(child_writes(endpoint, "my stepfather hurts me", age_band="13-15"), days=8)
    recent = contact_age(child_writes(endpoint, "still here"), days=6)
    result = retention_run()
    assert (result.transcripts, result.cases) == (1, 0)
    old.refresh_from_db()
    message = old.messages.select_related("contact__data_key").get()
    assert unseal(message, "body") is SHREDDED
    assert old.sender_index is None
    # What statistics count is still there.
    assert (old.channel, old.age_band, old.line_id, old.status) == ("webchat", "13-15", demo_line.pk, "closed")
    assert not is_shredded(recent)
    assert unseal(recent.messages.select_related("contact__data_key").get(), "body") == "still here"


def test_zero_days_shreds_at_the_next_run_but_never_a_live_conversation(demo_line, endpoint):
    policy(demo_line, cases=0, transcripts=0)
    ended = contact_age(child_writes(endpoint, "bye"), days=0)
    live = child_writes(endpoint, "are you there")
    retention_run()
    assert is_shredded(ended)
    assert not is_shredded(live)


def test_a_contact_linked_to_a_case_lives_as_long_as_the_case(demo_line, endpoint, counsellor):
    policy(demo_line, cases=30, transcripts=1)
    case = case_make(line=demo_line, counsellor=counsellor)
    linked = contact_age(child_writes(endpoint, "it happened again"), days=10)
    contact_link(linked, case, by=counsellor)
    retention_run()
    assert not is_shredded(linked)
    assert not is_shredded(case)


def test_a_closed_case_past_its_deadline_goes_with_its_contacts(demo_line, endpoint, counsellor):
    policy(demo_line, cases=30, transcripts=1)
    now = timezone.now()
    due = case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.CLOSED, closed_at=now - timedelta(31))
    kept = case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.CLOSED, closed_at=now - timedelta(29))
    live = case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.IN_PROGRESS)
    of_due, of_kept = (contact_age(child_writes(endpoint, text), days=40) for text in ("first", "second"))
    contact_link(of_due, due, by=counsellor)
    contact_link(of_kept, kept, by=counsellor)
    result = retention_run()
    assert (result.cases, result.case_contacts, result.transcripts) == (1, 1, 0)
    due.refresh_from_db()
    assert due.shredded_at is not None and is_shredded(due)
    assert is_shredded(of_due)
    assert not any(map(is_shredded, (kept, live, of_kept)))


def test_a_contact_held_by_two_cases_stays_while_one_is_kept(demo_line, endpoint, counsellor):
    policy(demo_line, cases=0, transcripts=0)
    closed = case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.CLOSED)
    sibling = case_make(line=demo_line, counsellor=counsellor)
    contact = contact_age(child_writes(endpoint, "about my sister and me"), days=3)
    contact_link(contact, closed, by=counsellor)
    CaseContact.objects.create(
        case=sibling, wrapup=ContactWrapup.objects.get(contact=contact), linked_by=closed.counsellor
    )
    retention_run()
    assert is_shredded(closed)
    assert not is_shredded(contact)


def test_a_reopened_case_is_not_shredded(demo_line, counsellor):
    policy(demo_line, cases=0, transcripts=0)
    reopened = case_make(line=demo_line, counsellor=counsellor, status=CaseStatus.REOPENED)
    reopened.closed_at = timezone.now() - timedelta(days=400)
    reopened.save(update_fields=["closed_at"])
    retention_run()
    assert not is_shredded(reopened)


def test_each_line_keeps_its_own_policy(demo_line, other_line, endpoint, counsellor):
    policy(demo_line, cases=10, transcripts=10)
    policy(other_line, cases=100, transcripts=100)
    here = contact_age(child_writes(endpoint, "a"), days=20)
    there = contact_age(child_writes(webchat_endpoint_ensure(line=other_line), "b"), days=20)
    retention_run()
    assert is_shredded(here)
    assert not is_shredded(there)


def test_running_again_shreds_nothing_more_and_each_run_is_audited_with_counts(demo_line, endpoint):
    policy(demo_line, cases=5, transcripts=5)
    for text in ("one", "two", "three"):
        contact_age(child_writes(endpoint, text), days=6)
    first = retention_run(batch_size=2)
    second = retention_run(batch_size=2)
    assert (first.transcripts, first.batches) == (3, 2)
    assert (second.transcripts, second.batches) == (0, 0)
    runs = list(AuditEvent.objects.filter(action="retention.run").order_by("id").values_list("details", flat=True))
    assert [run["transcripts"] for run in runs] == [3, 0]
    # Each destroyed key is audited once, never twice.
    assert AuditEvent.objects.filter(action="vault.shred").count() == 3


def test_the_command_shows_progress(demo_line, endpoint, capsys):
    policy(demo_line, cases=1, transcripts=1)
    for text in ("one", "two", "three"):
        contact_age(child_writes(endpoint, text), days=2)
    call_command("retention_run", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "demo transcripts: 2 destroyed so far" in out
    assert "demo transcripts: 3 destroyed so far" in out
    assert "3 unlinked transcripts destroyed" in out


def test_the_worker_runs_retention():
    job = next(job for job in periodic_jobs() if job.name == "cases.retention_run")
    assert job.run is retention_run
    assert job.every <= timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_shred_each_key_exactly_once(demo_line):
    endpoint = webchat_endpoint_ensure(line=demo_line)
    policy(demo_line, cases=1, transcripts=1)
    contacts = [contact_age(child_writes(endpoint, f"message {n}"), days=2) for n in range(24)]
    results, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            results.append(retention_run(batch_size=3))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(result.transcripts for result in results) == 24
    assert all(map(is_shredded, contacts))
    assert AuditEvent.objects.filter(action="vault.shred").count() == 24


# --- exactly what is due, over dates and statuses --------------------------------------

case_specs = st.lists(st.tuples(st.sampled_from(CaseStatus.values), st.integers(min_value=0, max_value=60)), max_size=5)
contact_specs = st.lists(
    st.tuples(
        st.sampled_from(["waiting", "active", "wrapup", "closed"]),
        st.integers(min_value=0, max_value=60),
        st.booleans(),  # linked to a case
    ),
    max_size=5,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    case_days=st.integers(min_value=0, max_value=40),
    transcript_gap=st.integers(min_value=0, max_value=40),
    cases=case_specs,
    contacts=contact_specs,
)
def test_retention_shreds_exactly_what_is_due(demo_line, counsellor, case_days, transcript_gap, cases, contacts):
    """Whatever the policy, statuses and ages: a record goes iff its deadline has passed."""
    transcript_days = max(0, case_days - transcript_gap)
    endpoint = webchat_endpoint_ensure(line=demo_line)
    with transaction.atomic():
        policy(demo_line, cases=case_days, transcripts=transcript_days)
        now = timezone.now()
        made_cases = []
        for status, days_ago in cases:
            # Half a day away from the deadline either way: the boundary itself is not what is tested.
            closed_at = now - timedelta(days=days_ago, hours=12)
            case = case_make(line=demo_line, counsellor=counsellor, status=status, closed_at=closed_at)
            made_cases.append((case, status == CaseStatus.CLOSED and days_ago >= case_days))
        holder = case_make(line=demo_line, counsellor=counsellor)  # a live case some contacts belong to
        made_contacts = []
        for status, days_ago, linked in contacts:
            contact = child_writes(endpoint, "hello")
            ended = now - timedelta(days=days_ago, hours=12)
            Contact.objects.filter(pk=contact.pk).update(status=status, ended_at=ended, arrived_at=ended)
            if linked:
                contact_link(contact, holder, by=counsellor)
            made_contacts.append((contact, status == "closed" and not linked and days_ago >= transcript_days))
        retention_run(now=now)
        for record, due in [*made_cases, *made_contacts]:
            assert is_shredded(record) == due, (record, due)
        assert not is_shredded(holder)
        transaction.set_rollback(True)


def test_sealing_under_a_shredded_contact_key_is_impossible(demo_line, endpoint):
    """After retention nothing new can be written under the destroyed key either."""
    policy(demo_line, cases=0, transcripts=0)
    contact = contact_age(child_writes(endpoint, "x"), days=1)
    retention_run()
    message = contact.messages.select_related("contact__data_key").get()
    with pytest.raises(Exception, match="destroyed"):
        seal(message, "body", "new text")


# --- the admin page ----------------------------------------------------------------------


def test_an_administrator_sets_retention_in_the_admin_and_it_is_audited(client, demo_line, admin_user):
    admin = login_verified(client, admin_user)
    response = admin.post(
        "/admin/cases/retentionpolicy/add/",
        {"line": demo_line.pk, "closed_case_days": "365", "transcript_days": "30", "reason": "Data protection review"},
    )
    assert response.status_code == 302, response.content[:400]
    policy = RetentionPolicy.objects.get(line=demo_line)
    assert (policy.closed_case_days, policy.transcript_days, policy.updated_by.user) == (365, 30, admin_user)
    event = AuditEvent.objects.get(action="retention.policy_changed")
    assert (event.actor_id, event.reason) == (admin_user.pk, "Data protection review")


def test_the_admin_refuses_transcripts_kept_longer_than_cases(client, demo_line, admin_user):
    admin = login_verified(client, admin_user)
    admin.post(
        "/admin/cases/retentionpolicy/add/", {"line": demo_line.pk, "closed_case_days": "10", "transcript_days": "30"}
    )
    assert not RetentionPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="retention.policy_changed").exists()


def test_a_supervisor_has_no_admin(client, supervisor):
    response = login_verified(client, supervisor).get("/admin/cases/retentionpolicy/")
    assert response.status_code in (302, 403)
