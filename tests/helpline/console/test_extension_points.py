"""The extension points outer apps plug into: navigation, console panes, signals, periodic jobs."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from helpline.models import PeriodicJobState
from helpline.navigation import nav_home_url, nav_items_for, nav_register
from helpline.panes import _panes, console_pane_register
from helpline.periodic import _jobs, periodic_register, periodic_run_due
from helpline.signals import contact_closed, contact_ended
from tests.helpline.console.conftest import child_writes, client_for, held_by

pytestmark = pytest.mark.django_db


def test_the_authority_inbox_is_registered_by_the_referrals_app_not_named_by_helpline():
    import helpline.context_processors

    source = open(helpline.context_processors.__file__).read()
    assert "referrals" not in source
    assert [item.url_name for item in nav_items_for("authority")][0] == "referrals:inbox"
    assert nav_home_url("authority") == "/authority/"
    assert nav_home_url(None) is None


def test_a_registered_page_appears_in_the_navigation_of_its_role_only(counsellor, supervisor):
    nav_register(role="supervisor", label="Caseloads", url_name="helpline:supervisor_team", order=50)
    try:
        supervisor_page = client_for(supervisor).get("/supervisor/").content.decode()
        counsellor_page = client_for(counsellor).get("/console/").content.decode()
    finally:
        from helpline.navigation import _items

        _items.pop(("supervisor", "helpline:supervisor_team"))
    assert "Caseloads" in supervisor_page and "Caseloads" not in counsellor_page


@pytest.fixture
def extra_pane(settings, tmp_path):
    template_dir = tmp_path / "templates"
    (template_dir / "extra").mkdir(parents=True)
    (template_dir / "extra" / "pane.html").write_text("<p>Extra pane for {{ status }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [template_dir]}]
    console_pane_register(
        name="extra", template="extra/pane.html", context=lambda request, contact: {"status": contact.status}
    )
    yield
    _panes.pop("extra")


def test_a_registered_pane_shows_beside_a_held_conversation(extra_pane, chat_endpoint, counsellor):
    contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
    page = client_for(counsellor).get(f"/console/c/{contact.pk}/").content.decode()
    assert 'id="pane-extra"' in page and "Extra pane for active" in page


@pytest.mark.django_db(transaction=True)
def test_contact_signals_are_sent_after_commit_and_never_for_a_rollback(chat_endpoint, counsellor):
    from helpline.services.queue import contact_close, contact_end

    heard = []

    def listener(signal, **kwargs):
        heard.append((signal, kwargs["contact_id"]))

    contact_ended.connect(listener, dispatch_uid="test-ended")
    contact_closed.connect(listener, dispatch_uid="test-closed")
    try:
        contact = held_by(counsellor, child_writes(chat_endpoint, "hello"))
        staff = counsellor.staff
        with pytest.raises(RuntimeError), transaction.atomic():
            contact_end(actor=staff, contact=contact)
            raise RuntimeError("rolled back")
        assert heard == []
        contact_end(actor=staff, contact=contact)
        assert heard == [(contact_ended, contact.pk)]
        contact_close(actor=staff, contact=contact)
        assert heard[-1] == (contact_closed, contact.pk)
    finally:
        contact_ended.disconnect(dispatch_uid="test-ended")
        contact_closed.disconnect(dispatch_uid="test-closed")


@pytest.fixture
def counted_job():
    runs = []
    periodic_register(name="test.counted", every=timedelta(minutes=10), run=lambda: runs.append(1))
    yield runs
    _jobs.pop("test.counted")


def test_a_periodic_job_runs_once_per_interval_whatever_the_number_of_runners(counted_job):
    now = timezone.now()
    assert "test.counted" in periodic_run_due(now=now)
    assert "test.counted" not in periodic_run_due(now=now)  # a second runner at the same moment
    assert "test.counted" not in periodic_run_due(now=now + timedelta(minutes=9))
    assert "test.counted" in periodic_run_due(now=now + timedelta(minutes=10))
    assert len(counted_job) == 2
    assert PeriodicJobState.objects.get(name="test.counted").next_run_at == now + timedelta(minutes=20)


def test_a_failing_periodic_job_does_not_stop_the_others(counted_job):
    periodic_register(name="test.broken", every=timedelta(minutes=1), run=lambda: 1 / 0)
    try:
        ran = periodic_run_due()
    finally:
        _jobs.pop("test.broken")
    assert {"test.broken", "test.counted"} <= set(ran)
    assert counted_job == [1]
