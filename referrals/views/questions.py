"""An agency's question about a referral, for the helpline: read it and answer it.

Opened from the console's "Waiting for you" list (``referrals.todo``): for an htmx request the
question and its answer form are a fragment shown inside the list; otherwise a page. A question is
looked up inside ``agency_questions_for_helpline(user)`` (the cases the user may see), so anyone
else's is a 404 whatever its id; reading it is audited (``referral.question_read``). The answer goes
through ``referral_question_answer`` with the helpline as its author, which checks again.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from helpline.access import role_required
from helpline.models import Role
from referrals.selectors import agency_question_read, agency_questions_for_helpline
from referrals.services.agency_side import MAX_QUESTION_LENGTH, referral_question_answer

STAFF = (Role.COUNSELLOR, Role.SUPERVISOR)
# Sent to the page after an answer: the lists of what waits (helpline.todo) fetch themselves again.
TODO_CHANGED_EVENT = "todo-changed"


def _question(request, question_id):
    question = (
        agency_questions_for_helpline(request.user)
        .select_related("referral__case__data_key", "asked_by__user")
        .filter(pk=question_id)
        .first()
    )
    if question is None:
        raise Http404
    return question


def _render(request, question, *, text: str = "", error: str = "", status: int = 200):
    context = {
        **agency_question_read(user=request.user, question=question),
        "answer_text": text,
        "error": error,
        "max_length": MAX_QUESTION_LENGTH,
        "heading_level": 3 if request.htmx else 2,
    }
    template = "referrals/question_answer.html" if request.htmx else "referrals/question.html"
    return render(request, template, context, status=status)


@role_required(*STAFF)
@require_GET
@never_cache
def question(request, question_id):
    return _render(request, _question(request, question_id))


@role_required(*STAFF)
@require_POST
def answer(request, question_id):
    question = _question(request, question_id)
    text = request.POST.get("text", "")
    try:
        referral_question_answer(actor=request.user, question=question, text=text)
    except ValidationError as error:
        return _render(request, question, text=text[:MAX_QUESTION_LENGTH], error=" ".join(error.messages), status=422)
    message = _("Your answer is on the referral: %(agency)s can read it now.") % {
        "agency": question.referral.agency.name
    }
    if not request.htmx:
        messages.success(request, message)
        return redirect("helpline:console")
    response = render(request, "referrals/question_answered.html", {"message": message})
    return trigger_client_event(response, TODO_CHANGED_EVENT)
