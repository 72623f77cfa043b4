"""The agency portal (``/authority/``): an authority user's inbox of the referrals sent to their agency,
one referral as it was shared with that agency, and the agency's steps on it.

Thin: every read goes through ``referrals.selectors`` (``agency_inbox``, ``referral_for_agency``, the
audited ``referral_shared_view``) and every write through ``referrals.services.agency_side`` with the
user's own agency and ``via="portal"``; those check the agency again and hold every rule (what a
step needs, what the lifecycle allows). A referral of another agency is a 404 on every URL here,
and a user who is not an authority user gets 403. An invalid step shows the page again with the
service's message beside the form it came from (400) and changes nothing.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from helpline.access import role_required
from helpline.models import Role
from referrals.document_fields import document_rows
from referrals.lifecycle import QUESTIONS_OPEN, STATUS_LABELS, Status, transitions_from
from referrals.models import ReferralQuestion
from referrals.selectors import INBOX_VIEWS, agency_inbox, agency_of, referral_for_agency, referral_shared_view
from referrals.services import agency_side

INBOX_LABELS = {
    "new": _("New"),
    "overdue": _("Overdue"),
    "open": _("Open"),
    "closed": _("Closed"),
    "all": _("All"),
}


def _page_number(value) -> int:
    try:
        return max(1, min(int(value), 10_000))
    except (TypeError, ValueError):
        return 1


@role_required(Role.AUTHORITY)
@require_GET
@never_cache
def inbox(request):
    """Referrals sent to the user's own agency, and nothing else, under one filter, with every filter's count."""
    agency = agency_of(request.user)
    page = agency_inbox(agency, view=request.GET.get("show", "open"), page=_page_number(request.GET.get("page")))
    for referral in page.rows:
        referral.status_label = STATUS_LABELS.get(referral.status, referral.status)
    tabs = [(name, INBOX_LABELS[name], page.counts.get(name, 0)) for name in INBOX_VIEWS]
    return render(request, "referrals/inbox.html", {"agency": agency, "page": page, "tabs": tabs})


def _mine(request, referral_id):
    """The user's agency and its referral ``referral_id``, or 404 (another agency's does not exist here)."""
    agency = agency_of(request.user)
    referral = referral_for_agency(agency=agency, referral_id=referral_id)
    if referral is None:
        raise Http404
    return agency, referral


def _page(request, agency, referral, *, failed: str = "", error: ValidationError | None = None):
    shared = referral_shared_view(agency=agency, referral=referral, actor=request.user, via=agency_side.VIA_PORTAL)
    referral = shared["referral"]
    possible = transitions_from(referral.status)
    for item in shared["questions"]:
        item["failed"] = failed == f"answer-{item['id']}"
    may = {
        "may_acknowledge": Status.ACKNOWLEDGED in possible,
        "may_decide": Status.ACCEPTED in possible,
        "may_ask": referral.status in QUESTIONS_OPEN,
        "kinds": agency_side.outcome_kinds_for(referral),
    }
    # The form the failed step came from, if the page still shows it; else the error goes on top.
    shown = {
        "acknowledge": may["may_acknowledge"],
        "accept": may["may_decide"],
        "decline": may["may_decide"],
        "update": bool(may["kinds"]),
        "ask": may["may_ask"],
        **{f"answer-{item['id']}": may["may_ask"] and item["agency_may_answer"] for item in shared["questions"]},
    }
    context = {
        **shared,
        **may,
        "error_on_top": bool(failed) and not shown.get(failed),
        "agency": agency,
        "rows": document_rows(shared["document"]),
        "status_label": STATUS_LABELS.get(referral.status, referral.status),
        "failed": failed,
        "error": " ".join(error.messages) if error is not None else "",
        "posted": request.POST if failed else {},
    }
    return render(request, "referrals/portal_referral.html", context, status=400 if failed else 200)


@role_required(Role.AUTHORITY)
@require_GET
@never_cache
def referral(request, referral_id):
    """One referral: only what was shared with the agency, its history, questions and answers, and the steps open."""
    agency, referral = _mine(request, referral_id)
    return _page(request, agency, referral)


def _step(request, referral_id, name: str, call, done):
    agency, referral = _mine(request, referral_id)
    try:
        call(request.POST, agency=agency, actor=request.user, referral=referral, via=agency_side.VIA_PORTAL)
    except ValidationError as error:
        return _page(request, agency, referral, failed=name, error=error)
    messages.success(request, done)
    return redirect("referrals:portal_referral", referral_id=referral.pk)


def _step_view(name: str, call, done):
    """A POST view for one step: ``call(posted, **context)`` runs the service with the user's agency."""

    @role_required(Role.AUTHORITY)
    @require_POST
    def view(request, referral_id):
        return _step(request, referral_id, name, call, done)

    view.__name__ = view.__qualname__ = name
    return view


acknowledge = _step_view(
    "acknowledge",
    lambda posted, **context: agency_side.referral_acknowledge(**context),
    _("Referral acknowledged: the helpline sees it."),
)
accept = _step_view(
    "accept",
    lambda posted, **context: agency_side.referral_accept(note=posted.get("note", ""), **context),
    _("Referral accepted."),
)
decline = _step_view(
    "decline",
    lambda posted, **context: agency_side.referral_decline(reason=posted.get("reason", ""), **context),
    _("Referral declined; the helpline sees your reason."),
)
update = _step_view(
    "update",
    lambda posted, **context: agency_side.referral_update_record(
        outcome=posted.get("outcome", ""), note=posted.get("note", ""), **context
    ),
    _("Recorded: the helpline sees it on the case."),
)
ask = _step_view(
    "ask",
    lambda posted, **context: agency_side.referral_question_ask(text=posted.get("text", ""), **context),
    _("Question sent to the helpline."),
)


@role_required(Role.AUTHORITY)
@require_POST
def answer(request, referral_id, question_id):
    def call(posted, *, referral, **context):
        question = ReferralQuestion.objects.filter(pk=question_id, referral=referral).first()
        if question is None:
            raise Http404
        return agency_side.referral_question_answer(question=question, text=posted.get("text", ""), **context)

    return _step(request, referral_id, f"answer-{question_id}", call, _("Answer sent to the helpline."))
