"""The counsellor console: presence, the queue, one's own conversations and the conversation pane.

HTTP only. Reads go through ``helpline.selectors`` (the permission rule, and
``conversation_read``, which unseals and audits): a conversation is always
looked up inside ``contacts_writable_by(user)``, so a contact the user does not
hold is a 404 whatever its id. Writes go through ``helpline.services.queue`` and
``helpline.services.outbound``, which check again and raise ``RoutingError``
(shown to the user) or ``PermissionDenied`` (403). Panes of other apps (the
wrap-up) come through ``helpline.panes``.

Every fragment template renders its own wrapper element; the page's script
(``static/helpline/console.js``) re-fetches a fragment when a realtime event
names something it shows, and re-fetches all of them after a reconnect.
"""

from datetime import timedelta
from itertools import groupby

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url, reswap, retarget

from helpline import actions
from helpline.access import role_required
from helpline.demo import DEMO_PROVIDER_ACCOUNT
from helpline.models import CannedResponse, ContactStatus, Presence, RiskFlag, RiskKind, Role, Staff
from helpline.models.conversations import MAX_BODY_LENGTH
from helpline.panes import console_panes_for
from helpline.selectors import (
    contacts_writable_by,
    conversation_previews,
    conversation_read,
    my_conversations,
    queue_for,
)
from helpline.services.outbound import message_send
from helpline.services.queue import (
    RoutingError,
    contact_accept,
    contact_close,
    contact_end,
    contact_mark_seen,
    contact_transfer,
    draft_save,
    presence_set,
    risk_flag_decide,
)
from helpline.todo import console_todos_for

CONSOLE_ROLES = (Role.COUNSELLOR, Role.SUPERVISOR)
# What a counsellor may set themselves to from the console, offline included: they choose it, and see it.
PRESENCE_CHOICES = list(Presence.choices)
QUEUE_SHOWN = 50
MAX_NOTE_LENGTH = 2000

CONSOLE_READ_REASON = "Conversation opened in the console"


# --- shared with helpline.views.supervision ---------------------------------------------


def refused(request, message: str, *, fallback_url: str, status: int = 409) -> HttpResponse:
    """A step that cannot happen now: an alert on the page (htmx) or a flash message and a redirect."""
    if not request.htmx:
        messages.error(request, message)
        return redirect(fallback_url)
    response = render(request, "helpline/console/alert.html", {"alert": message}, status=status)
    return reswap(retarget(response, "#console-alert"), "innerHTML")


# --- lookups ---------------------------------------------------------------------------


def _held(request, contact_id):
    """A conversation the user holds (active or in wrap-up); 404 for anything else."""
    queryset = contacts_writable_by(request.user).select_related("line", "endpoint", "data_key")
    return get_object_or_404(queryset, pk=contact_id)


def _transfer_targets(*, contact, staff):
    """Counsellors and supervisors of the contact's line, other than the one transferring."""
    return (
        Staff.objects.filter(lines=contact.line_id, role__in=CONSOLE_ROLES)
        .exclude(pk=staff.pk)
        .select_related("user")
        .order_by("role", "user__username")
    )


def _canned_responses(contact):
    language = contact.language or (contact.line.languages[0] if contact.line.languages else "")
    return CannedResponse.objects.filter(line_id=contact.line_id, language=language).order_by("category", "title")


def _canned_groups(contact) -> list[dict]:
    """The line's prepared replies in the contact's language, grouped by category for the picker."""
    return [
        {"name": name, "replies": list(replies)}
        for name, replies in groupby(_canned_responses(contact), key=lambda response: response.category)
    ]


# --- contexts --------------------------------------------------------------------------


def _queue_context(request) -> dict:
    queue = queue_for(request.user)
    return {
        "queue": queue[:QUEUE_SHOWN],
        "queue_count": queue.count(),
        "my_languages": request.user.staff.languages,
    }


def reply_wait(contact, now) -> dict:
    """How long the child has waited for a reply, and when that turns amber and red (the line's thresholds)."""
    since = getattr(contact, "awaiting_reply_since", None)
    if since is None or contact.status != ContactStatus.ACTIVE:
        return {"since": None, "state": ""}
    amber_at = since + timedelta(seconds=contact.line.reply_amber_seconds)
    red_at = since + timedelta(seconds=contact.line.reply_red_seconds)
    state = "red" if now >= red_at else "amber" if now >= amber_at else "ok"
    return {
        "since": since,
        "minutes": int((now - since).total_seconds() // 60),
        "amber_at": amber_at,
        "red_at": red_at,
        "state": state,
    }


def _mine_context(request, *, open_contact=None) -> dict:
    mine = list(my_conversations(request.user))
    previews = conversation_previews(request=request, contacts=mine)
    now = timezone.now()
    rows = [
        {"contact": contact, "preview": previews.get(contact.pk), "wait": reply_wait(contact, now)} for contact in mine
    ]
    return {
        "mine": rows,
        "mine_unread": sum(contact.unread for contact in mine),
        "open_contact_id": open_contact.pk if open_contact else None,
    }


def safety_message_for(contact) -> tuple[str, str]:
    """The line's sextortion safety message in the contact's language (else the line's main one), and that language."""
    texts = contact.line.safety_message or {}
    for language in (contact.language, *(contact.line.languages or [])):
        if language and texts.get(language):
            return texts[language], language
    return "", ""


def _live_context(request, contact, *, opened: bool = False) -> dict:
    content = conversation_read(
        request=request, contact=contact, action=actions.CONTENT_READ, reason=CONSOLE_READ_REASON, opened=opened
    )
    safety_text, safety_language = safety_message_for(contact)
    confirmed_sextortion = contact.risk_flag == RiskFlag.CONFIRMED and contact.risk_kind == RiskKind.SEXTORTION
    return {
        "contact": contact,
        "entries": content.entries,
        "notes": content.notes,
        "draft": content.draft,
        "safety_offered": bool(safety_text),
        "safety_text": safety_text if confirmed_sextortion else "",
        "safety_language": safety_language,
        "demo_number": contact.endpoint.provider_account == DEMO_PROVIDER_ACCOUNT,
    }


def _pane_context(request, contact, *, reply_body=None, reply_error="", opened: bool = False) -> dict:
    staff = request.user.staff
    live = _live_context(request, contact, opened=opened)
    return {
        **live,
        "reply_body": live["draft"] if reply_body is None else reply_body,
        "draft_restored": reply_body is None,
        "reply_error": reply_error,
        "canned_groups": _canned_groups(contact),
        "colleagues": _transfer_targets(contact=contact, staff=staff),
        "max_body_length": MAX_BODY_LENGTH,
        "max_note_length": MAX_NOTE_LENGTH,
        "panes": console_panes_for(request, contact),
    }


def todo_context(request, *, team: bool = False) -> dict:
    """What waits for the user (helpline.todo), or for their lines' team: each item and whether it is urgent."""
    now = timezone.now()
    rows = [{"item": item, "urgent": item.urgent(now)} for item in console_todos_for(request.user, team=team)]
    return {"todo_rows": rows, "todo_team": team}


def _page_context(request) -> dict:
    return {
        "staff": request.user.staff,
        "presences": PRESENCE_CHOICES,
        **_queue_context(request),
        **_mine_context(request),
        **todo_context(request),
    }


def _open_pane(request, contact, *, queue_oob=False, opened=True) -> HttpResponse:
    """The pane of a held conversation, marking it seen and auditing the opening."""
    contact_mark_seen(staff=request.user.staff, contact=contact)
    context = {**_pane_context(request, contact, opened=opened), **_mine_context(request, open_contact=contact)}
    if not request.htmx:
        return render(request, "helpline/console.html", {**_page_context(request), **context})
    if queue_oob:
        context.update(_queue_context(request), queue_oob=True)
    return render(request, "helpline/console/pane.html", {**context, "mine_oob": True})


def _pane_notice(request, notice: str) -> HttpResponse:
    """The pane after the conversation has left the user (transferred, closed)."""
    if not request.htmx:
        messages.success(request, notice)
        return redirect("helpline:console")
    context = {"notice": notice, "mine_oob": True, **_mine_context(request)}
    return push_url(render(request, "helpline/console/notice.html", context), reverse("helpline:console"))


# --- pages and fragments ---------------------------------------------------------------


@role_required(*CONSOLE_ROLES)
@require_GET
@never_cache
def console(request):
    return render(request, "helpline/console.html", _page_context(request))


@role_required(*CONSOLE_ROLES)
@require_GET
@never_cache
def queue(request):
    return render(request, "helpline/console/queue.html", _queue_context(request))


@role_required(*CONSOLE_ROLES)
@require_GET
@never_cache
def mine(request):
    return render(request, "helpline/console/mine.html", _mine_context(request))


@role_required(*CONSOLE_ROLES)
@require_GET
@never_cache
def todo(request):
    """The "Waiting for you" list (helpline.todo), fetched again on ``todo.changed``."""
    return render(request, "helpline/console/todo_list.html", todo_context(request))


@role_required(*CONSOLE_ROLES)
@require_http_methods(["GET", "POST"])
@never_cache
def presence(request):
    staff = request.user.staff
    if request.method == "POST":
        try:
            presence_set(staff=staff, presence=request.POST.get("presence", ""))
        except RoutingError as error:
            return refused(request, str(error), fallback_url=reverse("helpline:console"), status=422)
        if not request.htmx:
            return redirect("helpline:console")
    return render(request, "helpline/console/presence.html", {"staff": staff, "presences": PRESENCE_CHOICES})


@role_required(*CONSOLE_ROLES)
@require_GET
@never_cache
def conversation(request, contact_id):
    return _open_pane(request, _held(request, contact_id))


@role_required(*CONSOLE_ROLES)
@require_GET
@never_cache
def conversation_live(request, contact_id):
    """The part of the pane that changes with events: status, risk flag, notes, history."""
    contact = _held(request, contact_id)
    contact_mark_seen(staff=request.user.staff, contact=contact)
    context = {**_live_context(request, contact), **_mine_context(request, open_contact=contact), "mine_oob": True}
    return render(request, "helpline/console/live.html", context)


# --- actions ---------------------------------------------------------------------------


@role_required(*CONSOLE_ROLES)
@require_POST
def take(request, contact_id=None):
    """ "Take next" (no id) or "Take this one"."""
    try:
        contact = contact_accept(staff=request.user.staff, contact_id=contact_id)
    except RoutingError as error:
        return refused(request, str(error), fallback_url=reverse("helpline:console"))
    contact = _held(request, contact.pk)
    url = reverse("helpline:console_conversation", args=[contact.pk])
    if not request.htmx:
        return redirect(url)
    return push_url(_open_pane(request, contact, queue_oob=True), url)


@role_required(*CONSOLE_ROLES)
@require_POST
def send(request, contact_id):
    contact = _held(request, contact_id)
    pane_url = reverse("helpline:console_conversation", args=[contact.pk])
    body = request.POST.get("body", "")
    error = ""
    if contact.status != ContactStatus.ACTIVE:
        error = _("This conversation has ended; no more messages can be sent in it.")
    else:
        try:
            message_send(contact=contact, body=body, author=request.user.staff)
        except ValueError as problem:
            error = str(problem)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(pane_url)
    if error:
        context = _pane_context(request, contact, reply_body=body, reply_error=error)
        return render(request, "helpline/console/reply.html", context, status=422)
    contact_mark_seen(staff=request.user.staff, contact=contact)
    context = {**_pane_context(request, contact, reply_body=""), **_mine_context(request, open_contact=contact)}
    return render(request, "helpline/console/reply.html", {**context, "live_oob": True, "mine_oob": True})


@role_required(*CONSOLE_ROLES)
@require_POST
def draft(request, contact_id):
    contact = _held(request, contact_id)
    body = request.POST.get("body", "")
    if len(body) > MAX_BODY_LENGTH:
        return HttpResponse(_("Too long to keep as a draft."), status=422)
    saved = draft_save(staff=request.user.staff, contact=contact, body=body)
    return render(request, "helpline/console/draft_status.html", {"saved": saved is not None})


@role_required(*CONSOLE_ROLES)
@require_POST
def risk(request, contact_id):
    contact = _held(request, contact_id)
    decision = request.POST.get("decision")
    if decision not in ("confirm", "sextortion", "clear"):
        return refused(request, _("Choose to confirm or to clear the flag."), fallback_url=reverse("helpline:console"))
    kind = RiskKind.SEXTORTION if decision == "sextortion" else RiskKind.GENERAL
    contact = risk_flag_decide(actor=request.user.staff, contact=contact, confirmed=decision != "clear", kind=kind)
    if not request.htmx:
        return redirect("helpline:console_conversation", contact.pk)
    contact = _held(request, contact.pk)
    return render(request, "helpline/console/live.html", _live_context(request, contact))


@role_required(*CONSOLE_ROLES)
@require_POST
def safety(request, contact_id):
    """One click: the line's safety message goes to a child whose sextortion risk was confirmed."""
    contact = _held(request, contact_id)
    text, _language = safety_message_for(contact)
    pane_url = reverse("helpline:console_conversation", args=[contact.pk])
    if contact.status != ContactStatus.ACTIVE:
        return refused(request, _("This conversation has ended."), fallback_url=pane_url)
    if not text or contact.risk_flag != RiskFlag.CONFIRMED or contact.risk_kind != RiskKind.SEXTORTION:
        return refused(request, _("The safety message is for a confirmed sextortion risk."), fallback_url=pane_url)
    message_send(contact=contact, body=text, author=request.user.staff)
    if not request.htmx:
        return redirect(pane_url)
    contact = _held(request, contact.pk)
    context = {**_live_context(request, contact), **_mine_context(request, open_contact=contact), "mine_oob": True}
    return render(request, "helpline/console/live.html", context)


@role_required(*CONSOLE_ROLES)
@require_POST
def transfer(request, contact_id):
    staff = request.user.staff
    contact = _held(request, contact_id)
    to_staff = get_object_or_404(_transfer_targets(contact=contact, staff=staff), pk=request.POST.get("to_staff") or 0)
    note = request.POST.get("note", "")[:MAX_NOTE_LENGTH]
    pane_url = reverse("helpline:console_conversation", args=[contact.pk])
    try:
        contact_transfer(actor=staff, contact=contact, to_staff=to_staff, note=note)
    except RoutingError as error:
        return refused(request, str(error), fallback_url=pane_url)
    name = to_staff.user.get_full_name() or to_staff.user.get_username()
    return _pane_notice(request, _("The conversation is now with %(name)s.") % {"name": name})


@role_required(*CONSOLE_ROLES)
@require_POST
def end(request, contact_id):
    contact = _held(request, contact_id)
    pane_url = reverse("helpline:console_conversation", args=[contact.pk])
    try:
        contact_end(actor=request.user.staff, contact=contact)
    except RoutingError as error:
        return refused(request, str(error), fallback_url=pane_url)
    if not request.htmx:
        return redirect(pane_url)
    return _open_pane(request, _held(request, contact.pk), opened=False)


@role_required(*CONSOLE_ROLES)
@require_POST
def close(request, contact_id):
    contact = _held(request, contact_id)
    try:
        contact_close(actor=request.user.staff, contact=contact)
    except RoutingError as error:
        return refused(request, str(error), fallback_url=reverse("helpline:console_conversation", args=[contact.pk]))
    return _pane_notice(request, _("Conversation closed."))
