"""An agency's question reaches the case's counsellor in the console ("Waiting for you", helpline.todo),
live and with ids only; the counsellor reads it (audited) and answers it there; the answer is on the
referral for the agency and on the case timeline, and the task leaves every list. When the case has no
counsellor left, the line's supervisors get it. Nobody who may not see the case sees or answers it,
and a POST forged for someone else's question changes nothing."""

import pytest
from django.core import mail

from helpline.audit.models import AuditEvent
from helpline.todo import console_todos_for
from referrals import actions
from referrals.models import ReferralQuestion
from referrals.selectors import referral_shared_view, referral_timeline
from referrals.services.agency_side import referral_decline, referral_question_ask
from tests.conftest import login_verified, make_staff
from tests.referrals.world import agency_user, referral_sent

pytestmark = pytest.mark.django_db

QUESTION = "Is the child still at the address in Kibera?"
ANSWER = "Yes, with her aunt, since March"


@pytest.fixture
def sent(plan, counsellor, supervisor):
    return referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)


@pytest.fixture
def officer(sent):
    return agency_user("officer_a", sent.agency)


@pytest.fixture
def question(sent, officer):
    return referral_question_ask(agency=sent.agency, actor=officer, referral=sent, text=QUESTION)


@pytest.fixture
def line_counsellor_elsewhere(other_line):
    """A counsellor of another line."""
    return make_staff("elsewhere", "counsellor", line=other_line)


def _client(client, user):
    return login_verified(client, user)


def _htmx(client, method, path, data=None):
    return getattr(client, method)(path, data or {}, headers={"HX-Request": "true"})


def _keys(user, *, team=False):
    return [item.key for item in console_todos_for(user, team=team)]


# --- who it waits for ---------------------------------------------------------------------------


def test_the_question_waits_for_the_case_s_counsellor_only(
    question, counsellor, colleague, supervisor, far_supervisor, line_counsellor_elsewhere, authority
):
    key = f"question-{question.pk}"
    assert _keys(counsellor) == [key]
    for other in (colleague, supervisor, far_supervisor, line_counsellor_elsewhere, authority):
        assert _keys(other) == []
    # The line's supervisor sees it among the team's, saying for whom; another line's does not.
    [item] = console_todos_for(supervisor, team=True)
    assert item.key == key and item.for_whom == counsellor.username
    assert _keys(far_supervisor, team=True) == [] and _keys(counsellor, team=True) == []


def test_a_case_without_its_counsellor_goes_to_the_line_s_supervisors(question, counsellor, supervisor, far_supervisor):
    counsellor.is_active = False
    counsellor.save(update_fields=["is_active"])
    key = f"question-{question.pk}"
    assert _keys(supervisor) == [key] and _keys(far_supervisor) == []
    [item] = console_todos_for(supervisor, team=True)
    assert "supervisors" in item.for_whom


def test_the_console_lists_it_without_its_text_and_reads_it_audited(client, question, counsellor, sent):
    client = _client(client, counsellor)
    page = client.get("/console/").content.decode()
    assert "Waiting for you" in page and f"/referrals/questions/{question.pk}/" in page
    assert sent.agency.name in page and sent.case.reference in page
    assert QUESTION not in page and QUESTION not in client.get("/console/todo/").content.decode()
    assert not AuditEvent.objects.filter(action=actions.REFERRAL_QUESTION_READ).exists()

    opened = _htmx(client, "get", f"/referrals/questions/{question.pk}/")
    assert opened.status_code == 200 and QUESTION in opened.content.decode()
    assert 'name="text"' in opened.content.decode()
    read = AuditEvent.objects.get(action=actions.REFERRAL_QUESTION_READ)
    assert read.actor_id == counsellor.pk and read.details["question"] == str(question.pk)
    assert QUESTION not in str(read.details)


# --- answering ----------------------------------------------------------------------------------


def test_the_counsellor_answers_in_the_console_and_the_task_goes(client, question, counsellor, sent, officer):
    client = _client(client, counsellor)
    answered = _htmx(client, "post", f"/referrals/questions/{question.pk}/answer/", {"text": ANSWER})
    assert answered.status_code == 200 and "todo-changed" in answered["HX-Trigger"]
    assert sent.agency.name in answered.content.decode()
    stored = ReferralQuestion.objects.get(pk=question.pk)
    assert stored.answered_by.user == counsellor and stored.answered_via == ""
    # The agency reads it on the referral; the case timeline shows the answer was given.
    [shown] = referral_shared_view(agency=sent.agency, referral=sent, actor=officer, via="portal")["questions"]
    assert shown["answer"] == ANSWER and shown["answered_by"] == "the helpline"
    assert any(entry.title.startswith("Answer to the agency") for entry in referral_timeline(sent.case))
    assert _keys(counsellor) == [] and f"question-{question.pk}" not in client.get("/console/todo/").content.decode()
    # Opened again, it shows the answer and no form.
    again = _htmx(client, "get", f"/referrals/questions/{question.pk}/").content.decode()
    assert ANSWER in again and 'name="text"' not in again


def test_without_htmx_the_answer_goes_back_to_the_console(client, question, supervisor):
    client = _client(client, supervisor)
    page = client.get(f"/referrals/questions/{question.pk}/")
    assert page.status_code == 200 and "<h1>" in page.content.decode() and QUESTION in page.content.decode()
    answered = client.post(f"/referrals/questions/{question.pk}/answer/", {"text": ANSWER})
    assert answered.status_code == 302 and answered["Location"] == "/console/"
    assert ReferralQuestion.objects.get(pk=question.pk).answered_by.user == supervisor


def test_an_empty_answer_or_one_on_a_declined_referral_is_refused_in_words(client, question, counsellor, sent, officer):
    client = _client(client, counsellor)
    empty = _htmx(client, "post", f"/referrals/questions/{question.pk}/answer/", {"text": "  "})
    assert empty.status_code == 422 and "Write the answer" in empty.content.decode()
    referral_decline(agency=sent.agency, actor=officer, referral=sent, reason="Outside our county")
    assert _keys(counsellor) == []  # it cannot be answered any more: not waiting
    late = _htmx(client, "post", f"/referrals/questions/{question.pk}/answer/", {"text": ANSWER})
    assert late.status_code == 422 and "This referral was declined" in late.content.decode()
    shown = _htmx(client, "get", f"/referrals/questions/{question.pk}/").content.decode()
    assert "can no longer be answered" in shown and 'name="text"' not in shown
    assert ReferralQuestion.objects.get(pk=question.pk).answered_at is None


@pytest.mark.parametrize("who", ["colleague", "far_supervisor", "line_counsellor_elsewhere", "authority"])
def test_nobody_else_reads_or_answers_it_not_even_with_a_forged_post(request, client, question, who):
    user = request.getfixturevalue(who)
    client = _client(client, user)
    expected = 403 if who == "authority" else 404
    for headers in ({}, {"HX-Request": "true"}):
        read = client.get(f"/referrals/questions/{question.pk}/", headers=headers)
        forged = client.post(f"/referrals/questions/{question.pk}/answer/", {"text": ANSWER}, headers=headers)
        assert (read.status_code, forged.status_code) == (expected, expected)
        assert QUESTION not in read.content.decode() + forged.content.decode()
    assert ReferralQuestion.objects.get(pk=question.pk).answered_at is None
    assert not AuditEvent.objects.filter(
        action__in=[actions.REFERRAL_QUESTION_READ, actions.REFERRAL_QUESTION_ANSWERED]
    ).exists()


def test_the_counsellor_cannot_answer_the_helpline_s_own_question_through_this_page(client, sent, counsellor):
    own = referral_question_ask(actor=counsellor, referral=sent, text="Did you reach the family?")
    client = _client(client, counsellor)
    assert client.get(f"/referrals/questions/{own.pk}/").status_code == 404
    assert client.post(f"/referrals/questions/{own.pk}/answer/", {"text": ANSWER}).status_code == 404
    assert ReferralQuestion.objects.get(pk=own.pk).answered_at is None


def test_asking_sends_no_e_mail_to_the_helpline(question):
    assert mail.outbox == []


# --- the supervisor's page ----------------------------------------------------------------------


def test_the_supervisor_page_lists_the_team_s_waiting_questions(client, question, supervisor, counsellor):
    client = _client(client, supervisor)
    page = client.get("/supervisor/").content.decode()
    assert "Waiting on the team" in page and f"/referrals/questions/{question.pk}/" in page
    assert f"for {counsellor.username}" in page and QUESTION not in page
    fragment = client.get("/supervisor/todo/", headers={"HX-Request": "true"}).content.decode()
    assert 'id="sup-todo-list"' in fragment and f"question-{question.pk}" in fragment
