"""The supervisor console: the lines' queues and wait alerts, the team's presence and load,
every live conversation of the supervisor's lines, read-along, reassigning, setting someone away.

Everything is looked up through ``helpline.selectors``: a contact or a staff member
outside the supervisor's lines is a 404. Reading along is audited
(``contact.read_along``) and shows nowhere in the counsellor's console.
"""

from datetime import timedelta

from django.db.models import Count, Min
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from helpline import actions
from helpline.access import role_required
from helpline.alerts import supervisor_alerts_for
from helpline.demo import DEMO_PROVIDER_ACCOUNT
from helpline.models import ContactStatus, Presence, RiskFlag, Role, Staff
from helpline.selectors import (
    contacts_visible_to,
    contacts_waiting_too_long,
    conversation_read,
    line_staff,
    queue_for,
    with_reply_wait,
)
from helpline.services.queue import RoutingError, contact_assign, presence_set
from helpline.views.console import refused, reply_wait, todo_context

WAITING_SHOWN = 100


def _assignable_by_line(request, line_ids) -> dict:
    """For each line, the counsellors and supervisors a contact of that line can be given to."""
    staff = line_staff(request.user)
    return {
        line_id: list(staff.filter(pk__in=Staff.objects.filter(lines=line_id).values("pk"))) for line_id in line_ids
    }


def _board_context(request) -> dict:
    user = request.user
    now = timezone.now()
    lines = list(user.staff.lines.order_by("name"))
    stats = {
        row["line"]: row
        for row in queue_for(user).order_by().values("line").annotate(waiting=Count("pk"), oldest=Min("arrived_at"))
    }
    overdue_ids = set(contacts_waiting_too_long(user).values_list("pk", flat=True))
    waiting = list(queue_for(user)[:WAITING_SHOWN])
    assignable = _assignable_by_line(request, [line.pk for line in lines])
    return {
        "line_rows": [_line_row(line, stats.get(line.pk), now) for line in lines],
        "waiting_rows": [
            {
                "contact": contact,
                "overdue": contact.pk in overdue_ids,
                "alert_at": contact.arrived_at + timedelta(seconds=contact.line.wait_alert_seconds),
                "assignable": assignable.get(contact.line_id, []),
            }
            for contact in waiting
        ],
        "overdue_count": len(overdue_ids),
    }


def _line_row(line, stats, now) -> dict:
    if not stats:
        return {"line": line, "waiting": 0, "longest_minutes": None, "over": False}
    longest = now - stats["oldest"]
    return {
        "line": line,
        "waiting": stats["waiting"],
        "longest_minutes": int(longest.total_seconds() // 60),
        "over": longest > timedelta(seconds=line.wait_alert_seconds),
    }


def _live_contacts(request) -> list:
    live = with_reply_wait(
        contacts_visible_to(request.user).filter(status__in=[ContactStatus.ACTIVE, ContactStatus.WRAPUP])
    )
    return list(live.select_related("line", "counsellor__user").order_by("accepted_at"))


def _live_context(request) -> dict:
    live = _live_contacts(request)
    now = timezone.now()
    assignable = _assignable_by_line(request, {contact.line_id for contact in live})
    return {
        "live_rows": [
            {"contact": contact, "assignable": assignable[contact.line_id], "wait": reply_wait(contact, now)}
            for contact in live
        ]
    }


def _alerts_context(request) -> dict:
    """What needs a supervisor now: confirmed risks, children waiting past the line's red threshold for a
    reply, and the alerts outer apps register (helpline.alerts: the SOP's notices).

    A wait that is not over the threshold yet is sent too, hidden, with the moment it
    crosses it: the page shows it then by itself (no event marks that moment).
    """
    now = timezone.now()
    rows = []
    for contact in _live_contacts(request):
        wait = reply_wait(contact, now)
        risk = contact.risk_flag == RiskFlag.CONFIRMED
        if risk or wait["since"]:
            rows.append({"contact": contact, "wait": wait, "risk": risk})
    rows.sort(key=lambda row: (not row["risk"], row["wait"]["since"] or now))
    shown = [row for row in rows if row["risk"] or row["wait"]["state"] == "red"]
    others = supervisor_alerts_for(request.user)
    return {"alert_rows": rows, "other_alerts": others, "alerts_shown": len(shown) + len(others)}


def _staff_context(request) -> dict:
    return {"team": line_staff(request.user), "away": Presence.AWAY, "staff": request.user.staff}


def _page_context(request) -> dict:
    return {
        **_alerts_context(request),
        **_board_context(request),
        **_live_context(request),
        **_staff_context(request),
        **todo_context(request, team=True),
    }


def _read_along_context(request, contact_id, *, opened: bool) -> dict:
    queryset = contacts_visible_to(request.user).select_related("line", "endpoint", "counsellor__user", "data_key")
    contact = get_object_or_404(queryset, pk=contact_id)
    content = conversation_read(
        request=request,
        contact=contact,
        action=actions.CONTACT_READ_ALONG,
        reason="Supervisor read-along",
        opened=opened,
    )
    demo_number = contact.endpoint.provider_account == DEMO_PROVIDER_ACCOUNT
    return {"contact": contact, "entries": content.entries, "read_only": True, "demo_number": demo_number}


# --- pages and fragments ---------------------------------------------------------------


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def supervisor(request):
    return render(request, "helpline/supervisor.html", _page_context(request))


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def board(request):
    return render(request, "helpline/supervision/board.html", _board_context(request))


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def alerts(request):
    return render(request, "helpline/supervision/alerts.html", _alerts_context(request))


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def live(request):
    return render(request, "helpline/supervision/live.html", _live_context(request))


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def todo(request):
    """What waits for the team of the supervisor's lines (helpline.todo): agencies' questions, …"""
    return render(request, "helpline/console/todo_list.html", todo_context(request, team=True))


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def team(request):
    return render(request, "helpline/supervision/team.html", _staff_context(request))


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def read_along(request, contact_id):
    context = _read_along_context(request, contact_id, opened=True)
    if not request.htmx:
        return render(request, "helpline/supervisor.html", {**_page_context(request), **context})
    return render(request, "helpline/supervision/read_along.html", context)


@role_required(Role.SUPERVISOR)
@require_GET
@never_cache
def read_along_live(request, contact_id):
    context = _read_along_context(request, contact_id, opened=False)
    return render(request, "helpline/supervision/read_along_live.html", context)


# --- actions ---------------------------------------------------------------------------


@role_required(Role.SUPERVISOR)
@require_POST
def assign(request, contact_id):
    contact = get_object_or_404(contacts_visible_to(request.user), pk=contact_id)
    to_staff = get_object_or_404(line_staff(request.user), pk=request.POST.get("to_staff") or 0)
    if to_staff.presence in (Presence.OFFLINE, Presence.AWAY) and request.POST.get("confirm") != "yes":
        # They would not see it: the supervisor says so knowingly, or chooses someone else.
        context = {"contact": contact, "to_staff": to_staff, "base": "helpline/fragment.html" if request.htmx else None}
        response = render(request, "helpline/supervision/assign_confirm.html", context)
        return reswap(retarget(response, "#console-alert"), "innerHTML") if request.htmx else response
    try:
        contact_assign(actor=request.user.staff, contact=contact, to_staff=to_staff)
    except RoutingError as error:
        return refused(request, str(error), fallback_url=reverse("helpline:supervisor"))
    if not request.htmx:
        return redirect("helpline:supervisor")
    context = {**_board_context(request), **_live_context(request), "live_oob": True}
    return render(request, "helpline/supervision/board.html", context)


@role_required(Role.SUPERVISOR)
@require_POST
def set_presence(request, staff_id):
    member = get_object_or_404(line_staff(request.user), pk=staff_id)
    try:
        presence_set(staff=member, presence=request.POST.get("presence", ""), actor=request.user.staff)
    except RoutingError as error:
        return refused(request, str(error), fallback_url=reverse("helpline:supervisor"), status=422)
    if not request.htmx:
        return redirect("helpline:supervisor")
    return render(request, "helpline/supervision/team.html", _staff_context(request))
