"""When an agency asks, the counsellor's console hears of it at once (``todo.changed``, ids only), as do
the supervisor pages of the case's line; nobody else's list is told to look again."""

import json

import pytest
from channels.db import database_sync_to_async as sync_to_async

from referrals.services.agency_side import referral_question_answer, referral_question_ask
from tests.helpline.console.test_consumer import ID_KEYS, _settle, console_for
from tests.referrals.world import agency_user, referral_sent

pytestmark = [pytest.mark.django_db(transaction=True)]

QUESTION = "Is the child still at the address in Kibera?"


def _todo(events):
    return [event for event in events if event["type"] == "todo.changed"]


async def test_the_counsellor_s_console_is_told_when_an_agency_asks_and_when_it_is_answered(
    plan, counsellor, colleague, supervisor, demo_line
):
    sent = await sync_to_async(referral_sent)(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    officer = await sync_to_async(agency_user)("officer_a", sent.agency)
    mine, theirs, supervising = [await console_for(user) for user in (counsellor, colleague, supervisor)]
    await _settle()

    question = await sync_to_async(referral_question_ask)(
        agency=sent.agency, actor=officer, referral=sent, text=QUESTION
    )
    staff_id = await sync_to_async(lambda: counsellor.staff.pk)()
    heard = _todo(await mine.events())
    assert {"type": "todo.changed", "staff_id": staff_id} in heard
    # The colleague's list is not told (the line's event carries no staff id: their page ignores it).
    assert all("staff_id" not in event for event in _todo(await theirs.events()))
    assert {"type": "todo.changed", "line_id": demo_line.pk} in _todo(await supervising.events())

    await sync_to_async(referral_question_answer)(actor=counsellor, question=question, text="Yes")
    assert {"type": "todo.changed", "staff_id": staff_id} in _todo(await mine.events())
    for console in (mine, theirs, supervising):
        assert not any(QUESTION in frame or "Yes" in frame for frame in console.frames)
        assert all(set(event) <= ID_KEYS for event in map(json.loads, console.frames))
        await console.close()


async def test_a_reassigned_case_moves_its_waiting_question_to_the_new_counsellor_at_once(
    plan, counsellor, colleague, supervisor
):
    from cases.services.supervision import case_reassign
    from helpline.todo import console_todos_for

    sent = await sync_to_async(referral_sent)(plan["ke-police-nairobi"], counsellor=counsellor, supervisor=supervisor)
    officer = await sync_to_async(agency_user)("officer_a", sent.agency)
    question = await sync_to_async(referral_question_ask)(
        agency=sent.agency, actor=officer, referral=sent, text=QUESTION
    )
    mine, theirs = [await console_for(user) for user in (counsellor, colleague)]
    await _settle()
    await mine.events(), await theirs.events()

    await sync_to_async(lambda: case_reassign(actor=supervisor.staff, case=sent.case, to_staff=colleague.staff))()
    old_id, new_id = await sync_to_async(lambda: (counsellor.staff.pk, colleague.staff.pk))()
    assert {"type": "todo.changed", "staff_id": old_id} in _todo(await mine.events())
    assert {"type": "todo.changed", "staff_id": new_id} in _todo(await theirs.events())
    keys = await sync_to_async(
        lambda: ([i.key for i in console_todos_for(counsellor)], [i.key for i in console_todos_for(colleague)])
    )()
    assert keys == ([], [f"question-{question.pk}"])
    for console in (mine, theirs):
        await console.close()
