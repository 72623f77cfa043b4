"""The agency portal (referrals.views.authority): an authority user's inbox and referral page.

Agency A's user never sees nor acts on agency B's referral on any portal URL (404, nothing
changed, nothing shown); a user who is not an authority user is refused; each form does what it
says through the agency-side services; invalid input shows the service's message beside its form
and changes nothing; the page shows only the fields shared with the agency."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpline.audit.models import AuditEvent
from referrals import actions
from referrals.models import Referral, ReferralEvent, ReferralQuestion
from referrals.selectors import INBOX_PAGE_SIZE
from referrals.services import referral_question_answer, referral_question_ask
from tests.conftest import login_verified
from tests.referrals.conftest import (
    ANSWER,
    CHILD_NAME,
    CHILD_PHONE,
    NOTE,
    PERPETRATOR_HANDLE,
    QUESTION,
    SUMMARY,
    referral_state,
)
from tests.referrals.world import agency_user, referral_sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_a(sent):
    return agency_user("officer_a", sent.agency)


@pytest.fixture
def officer_b(agencies):
    return agency_user("officer_b", agencies["ke-police-dcs"])


@pytest.fixture
def client_a(client, officer_a):
    return login_verified(client, officer_a)


def _url(referral, step=""):
    return f"/authority/referrals/{referral.pk}/{step}"


# --- who sees what ----------------------------------------------------------------------------------


def test_the_inbox_lists_only_the_agencys_own_referrals(client_a, sent, officer_b):
    page = client_a.get("/authority/?show=all")
    assert page.status_code == 200
    assert sent.case.reference.encode() in page.content and _url(sent).encode() in page.content

    other = login_verified(type(client_a)(), officer_b)
    page = other.get("/authority/?show=all")
    assert page.status_code == 200
    assert sent.case.reference.encode() not in page.content and str(sent.pk).encode() not in page.content


def portal_requests(referral, question):
    return [
        ("get", _url(referral), {}),
        ("post", _url(referral, "acknowledge/"), {}),
        ("post", _url(referral, "accept/"), {"note": "taken"}),
        ("post", _url(referral, "decline/"), {"reason": "not ours"}),
        ("post", _url(referral, "updates/"), {"outcome": "investigation_opened", "note": NOTE}),
        ("post", _url(referral, "questions/"), {"text": QUESTION}),
        ("post", _url(referral, f"questions/{question.pk}/answer/"), {"text": ANSWER}),
    ]


def test_another_agencys_user_gets_404_on_every_portal_url_and_nothing_changes(client, sent, officer_b, counsellor):
    question = referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    login_verified(client, officer_b)
    before = referral_state(sent)
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    for method, url, data in portal_requests(sent, question):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
        for text in (CHILD_NAME, SUMMARY, QUESTION, sent.case.reference):
            assert text.encode() not in response.content, (url, text)
    assert referral_state(sent) == before
    assert not AuditEvent.objects.filter(pk__gt=last, action=actions.REFERRAL_SHARED_READ).exists()


def test_a_user_who_is_not_an_authority_user_is_refused(client, sent, counsellor, supervisor):
    question = referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    before = referral_state(sent)
    for user in (counsellor, supervisor):
        login_verified(client, user)
        assert client.get("/authority/").status_code == 403
        for method, url, data in portal_requests(sent, question):
            assert getattr(client, method)(url, data).status_code == 403, (user, url)
    assert referral_state(sent) == before


def test_an_authority_user_with_no_agency_sees_nothing(client, sent, authority):
    login_verified(client, authority)
    page = client.get("/authority/?show=all")
    assert page.status_code == 200 and b"does not belong to an agency" in page.content
    assert sent.case.reference.encode() not in page.content
    assert client.get(_url(sent)).status_code == 404


def test_an_unknown_or_malformed_referral_is_404(client_a):
    assert client_a.get("/authority/referrals/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client_a.get("/authority/referrals/not-a-uuid/").status_code == 404


def test_the_page_shows_only_the_fields_shared_with_the_agency(plan, counsellor, supervisor, client):
    from referrals.services.agencies import agency_update

    police = plan["ke-police-nairobi"].agency
    agency_update(actor=None, agency=police, fields=["categories", "child.age_band"], reason="Less")
    referral = referral_sent(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    login_verified(client, agency_user("officer_a", police))
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    page = client.get(_url(referral))
    assert page.status_code == 200
    assert "Child: age band" in page.content.decode()
    for text in (CHILD_NAME, "Wanjiru", CHILD_PHONE, PERPETRATOR_HANDLE, SUMMARY):
        assert text.encode() not in page.content, text
    read = AuditEvent.objects.get(pk__gt=last, action=actions.REFERRAL_SHARED_READ)
    assert read.details["via"] == "portal" and "child.age_band" in read.details["fields"]
    assert not {"child.name", "child.phone", "incident.summary", "people.name"} & set(read.details["fields"])


def test_the_page_shows_the_shared_content_history_and_questions(client_a, sent, counsellor):
    question = referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    page = client_a.get(_url(sent)).content.decode()
    assert SUMMARY in page and PERPETRATOR_HANDLE in page  # shared with the police by the demo SOP
    assert CHILD_NAME not in page  # not asked for by the rule
    assert QUESTION in page and f"questions/{question.pk}/answer/" in page
    assert "Referral delivered" in page


# --- the inbox's filters, counts, order and pages ---------------------------------------------------


def test_filters_count_in_one_query_and_overdue_urgent_come_first(client_a, sent):
    Referral.objects.filter(pk=sent.pk).update(acknowledge_by=timezone.now() - timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        page = client_a.get("/authority/?show=overdue")
    counts = [q["sql"] for q in queries if 'AS "new"' in q["sql"]]
    reads = [q["sql"] for q in queries if 'FROM "referrals_referral"' in q["sql"]]
    assert len(counts) == 1 and len(reads) == 2, reads  # the counts, then the page's rows
    body = page.content.decode()
    assert sent.case.reference in body and "flag-overdue" in body
    assert 'aria-current="page" data-view="overdue"' in body
    for view, expected in (("new", 1), ("overdue", 1), ("open", 1), ("closed", 0), ("all", 1)):
        assert page.context["page"].counts[view] == expected, view
    assert sent.case.reference not in client_a.get("/authority/?show=closed").content.decode()


def test_rows_sort_overdue_then_urgency_and_page(client_a, sent):
    from referrals.selectors import agency_inbox

    # More referrals of the same case to the same agency, as if sent one by one.
    now = timezone.now()
    clones = []
    for index in range(INBOX_PAGE_SIZE + 2):
        clone = Referral.objects.get(pk=sent.pk)
        clone.pk = None
        clone.id = None
        clone.origin = "manual"
        clone.rule_id = f"clone-{index}"
        clone.urgency = "routine"
        clone.sent_at = now - timedelta(minutes=index)
        clone.acknowledge_by = now + timedelta(days=1)
        clone.save(force_insert=True)
        clones.append(clone)
    Referral.objects.filter(pk=clones[-1].pk).update(urgency="immediate")
    Referral.objects.filter(pk=clones[-2].pk).update(acknowledge_by=now - timedelta(minutes=5))
    first = agency_inbox(sent.agency, view="open", page=1)
    assert [row.pk for row in first.rows[:2]] == [clones[-2].pk, clones[-1].pk]
    assert len(first.rows) == INBOX_PAGE_SIZE and first.has_next
    second = agency_inbox(sent.agency, view="open", page=2)
    assert not second.has_next and len(second.rows) == INBOX_PAGE_SIZE + 3 - INBOX_PAGE_SIZE
    page = client_a.get("/authority/?show=open&page=2")
    assert page.status_code == 200 and b'rel="prev"' in page.content
    assert client_a.get("/authority/?show=nonsense&page=x").status_code == 200


# --- each form does what it says ----------------------------------------------------------------------


def test_acknowledge(client_a, sent):
    response = client_a.post(_url(sent, "acknowledge/"))
    assert response.status_code == 302 and response["Location"] == _url(sent)
    assert Referral.objects.get(pk=sent.pk).status == "acknowledged"
    event = ReferralEvent.objects.get(referral=sent, kind="acknowledged")
    assert event.via == "portal" and event.actor.user.username == "officer_a"
    assert b"Referral acknowledged" in client_a.get(_url(sent)).content


def test_accept_with_a_note_then_record_progress_and_a_final_outcome(client_a, sent):
    assert client_a.post(_url(sent, "accept/"), {"note": "Taken on by the desk"}).status_code == 302
    assert Referral.objects.get(pk=sent.pk).status == "accepted"
    response = client_a.post(_url(sent, "updates/"), {"outcome": "investigation_opened", "note": NOTE})
    assert response.status_code == 302
    update = ReferralEvent.objects.get(referral=sent, kind="update")
    assert update.outcome.code == "investigation_opened"
    page = client_a.get(_url(sent)).content.decode()
    assert NOTE in page and "Investigation opened" in page
    assert client_a.post(_url(sent, "updates/"), {"outcome": "closed_by_prosecutor"}).status_code == 302
    closed = Referral.objects.get(pk=sent.pk)
    assert closed.status == "closed" and closed.outcome_kind.code == "closed_by_prosecutor"
    page = client_a.get(_url(sent)).content.decode()
    assert "Your next steps" not in page  # nothing left to do on a closed referral


def test_decline_with_a_reason(client_a, sent):
    assert client_a.post(_url(sent, "decline/"), {"reason": "Outside our county"}).status_code == 302
    assert Referral.objects.get(pk=sent.pk).status == "declined"
    assert "Outside our county" in client_a.get(_url(sent)).content.decode()


def test_ask_the_helpline_and_read_its_answer(client_a, sent, counsellor):
    assert client_a.post(_url(sent, "questions/"), {"text": QUESTION}).status_code == 302
    question = ReferralQuestion.objects.get(referral=sent)
    assert question.asked_by_side == "agency" and question.asked_via == "portal"
    page = client_a.get(_url(sent)).content.decode()
    assert QUESTION in page and "Not answered yet." in page
    referral_question_answer(actor=counsellor, question=question, text=ANSWER)
    assert ANSWER in client_a.get(_url(sent)).content.decode()


def test_answer_the_helplines_question(client_a, sent, counsellor):
    question = referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    assert client_a.post(_url(sent, f"questions/{question.pk}/answer/"), {"text": ANSWER}).status_code == 302
    question.refresh_from_db()
    assert question.answered_at is not None and question.answered_via == "portal"
    assert ANSWER in client_a.get(_url(sent)).content.decode()


def test_a_question_of_another_referral_is_404(client_a, sent, plan, counsellor, supervisor):
    other = referral_sent(plan["ke-childrens-services-nairobi"], counsellor=counsellor, supervisor=supervisor)
    question = referral_question_ask(actor=counsellor, referral=other, text=QUESTION)
    before = referral_state(other)
    assert client_a.post(_url(sent, f"questions/{question.pk}/answer/"), {"text": ANSWER}).status_code == 404
    assert referral_state(other) == before


# --- invalid input: a clear error beside the form, nothing changed ------------------------------------

INVALID = [
    ("decline/", {"reason": "  "}, "decline", "Say why the referral is declined."),
    ("updates/", {"outcome": "made_up"}, "update", "Choose an update or outcome from the list."),
    ("updates/", {"outcome": "no_further_action"}, "update", "cannot become closed"),
    ("questions/", {"text": ""}, "ask", "Write the question."),
    ("questions/", {"text": "x" * 4001}, "ask", "The text is too long."),
    ("accept/", {"note": "x" * 2001}, "accept", "The reason is too long."),
]


@pytest.mark.parametrize(("step", "data", "form", "message"), INVALID, ids=[f"{i[2]}-{i[3][:20]}" for i in INVALID])
def test_invalid_input_shows_the_error_beside_its_form_and_changes_nothing(client_a, sent, step, data, form, message):
    before = referral_state(sent)
    response = client_a.post(_url(sent, step), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and f'id="{form}-error"' in body and 'aria-invalid="true"' in body
    assert referral_state(sent) == before


def test_an_empty_answer_is_refused_and_the_question_stays_open(client_a, sent, counsellor):
    question = referral_question_ask(actor=counsellor, referral=sent, text=QUESTION)
    response = client_a.post(_url(sent, f"questions/{question.pk}/answer/"), {"text": " "})
    assert response.status_code == 400 and "Write the answer." in response.content.decode()
    assert f'id="answer-error-{question.pk}"' in response.content.decode()
    question.refresh_from_db()
    assert question.answered_at is None


def test_a_step_the_lifecycle_no_longer_allows_is_an_error_not_a_change(client_a, sent):
    client_a.post(_url(sent, "acknowledge/"))
    before = referral_state(sent)
    response = client_a.post(_url(sent, "acknowledge/"))
    assert response.status_code == 400 and "cannot become acknowledged" in response.content.decode()
    assert 'id="step-error"' in response.content.decode()
    assert referral_state(sent) == before


def test_get_on_a_step_is_refused(client_a, sent):
    assert client_a.get(_url(sent, "acknowledge/")).status_code == 405
    assert Referral.objects.get(pk=sent.pk).status == "sent"
