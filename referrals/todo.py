"""The agencies' questions in the console's "Waiting for you" list (helpline.todo).

An agency asks about a referral (portal or API, ``referrals.services.agency_side``): the question
waits for the case's counsellor, or for the line's supervisors when the case has no counsellor left
(``referrals.selectors.agency_questions_waiting``). The item holds no question text: it opens the
question's page (``referrals.views.questions``, an audited read) inline in the list, where the
answer is written; the answer goes back on the referral and the item leaves every list.

``agency_questions_changed(referral)`` is called by the services when a question appears or stops
waiting (asked, answered, the referral declined, closed or withdrawn): the consoles of whoever it
waits for, and the supervisor pages of the case's line, fetch their list again.
"""

from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext as _

from helpline.todo import TodoItem, console_todo_changed
from referrals.models import Referral, Side
from referrals.selectors import agency_question_recipients, agency_questions_waiting

# An unanswered question is flagged (and comes first) once it has waited this long.
QUESTION_URGENT_AFTER = timedelta(hours=4)


def agency_question_items(user, *, team: bool = False) -> list[TodoItem]:
    items = []
    for question in agency_questions_waiting(user, team=team):
        referral = question.referral
        counsellor = referral.case.counsellor
        if not team:
            whom = ""
        elif question.owner_present:
            whom = counsellor.user.get_username()
        else:
            whom = _("the line's supervisors (no counsellor on the case)")
        items.append(
            TodoItem(
                key=f"question-{question.pk}",
                kind="question",
                label=_("Question from %(agency)s about case %(case)s")
                % {"agency": referral.agency.name, "case": referral.case.reference},
                since=question.asked_at,
                urgent_at=question.asked_at + QUESTION_URGENT_AFTER,
                url=reverse("referrals:question", args=[question.pk]),
                inline=True,
                action=_("Read and answer"),
                for_whom=whom,
            )
        )
    return items


def agency_questions_changed(referral: Referral) -> None:
    """After the commit, the lists that show ``referral``'s agency questions are fetched again."""
    console_todo_changed(staff_ids=agency_question_recipients(referral), line_ids=[referral.case.line_id])


def agency_questions_open_on(referral: Referral) -> bool:
    return referral.questions.filter(asked_by_side=Side.AGENCY, answered_at__isnull=True).exists()
