"""Permission-aware reads. The permission rule for conversations lives here and nowhere else.

- a counsellor sees and writes only the open conversations assigned to them;
- a supervisor sees every open conversation of their lines (reading along is audited);
  closed ones are reached through case records, with a stated reason;
- administrators and authority users see none.
"""

from datetime import timedelta
from functools import reduce
from operator import or_

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from helpline.access import role_of
from helpline.models import Contact, ContactStatus, Direction, Message, Role, Staff
from helpline.models.conversations import OPEN_STATUSES


def contacts_visible_to(user) -> QuerySet[Contact]:
    role = role_of(user)
    if role == Role.COUNSELLOR:
        return Contact.objects.filter(counsellor=user.staff, status__in=OPEN_STATUSES)
    if role == Role.SUPERVISOR:
        return Contact.objects.filter(line__in=user.staff.lines.all(), status__in=OPEN_STATUSES)
    return Contact.objects.none()


def contacts_writable_by(user) -> QuerySet[Contact]:
    """Only the person holding a conversation writes in it, supervisors included."""
    if role_of(user) not in (Role.COUNSELLOR, Role.SUPERVISOR):
        return Contact.objects.none()
    return Contact.objects.filter(counsellor=user.staff, status__in=[ContactStatus.ACTIVE, ContactStatus.WRAPUP])


def queue_for(user) -> QuerySet[Contact]:
    """Waiting contacts on the user's lines: highest priority first, then longest waiting."""
    if role_of(user) not in (Role.COUNSELLOR, Role.SUPERVISOR):
        return Contact.objects.none()
    return (
        Contact.objects.filter(status=ContactStatus.WAITING, line__in=user.staff.lines.all())
        .select_related("line")
        .order_by("-priority", "arrived_at")
    )


def my_conversations(user) -> QuerySet[Contact]:
    """The user's own live conversations with their unread counts."""
    if role_of(user) not in (Role.COUNSELLOR, Role.SUPERVISOR):
        return Contact.objects.none()
    unread = Count(
        "messages",
        filter=Q(messages__direction=Direction.INBOUND)
        & (Q(counsellor_seen_at__isnull=True) | Q(messages__created_at__gt=F("counsellor_seen_at"))),
    )
    return (
        Contact.objects.filter(counsellor=user.staff, status__in=[ContactStatus.ACTIVE, ContactStatus.WRAPUP])
        .annotate(unread=unread)
        .select_related("line")
        .order_by("accepted_at")
    )


def conversation_messages(contact: Contact) -> QuerySet[Message]:
    return contact.messages.select_related("contact__data_key").order_by("created_at")


def contacts_waiting_too_long(user) -> QuerySet[Contact]:
    """Waiting contacts past their line's alert threshold, for supervisors."""
    if role_of(user) != Role.SUPERVISOR:
        return Contact.objects.none()
    now = timezone.now()
    lines = list(user.staff.lines.all())
    if not lines:
        return Contact.objects.none()
    # Each line has its own threshold; a handful of lines makes a small OR in SQL.
    overdue = reduce(
        or_, (Q(line=line, arrived_at__lt=now - timedelta(seconds=line.wait_alert_seconds)) for line in lines)
    )
    return queue_for(user).filter(overdue)


def line_staff(user) -> QuerySet[Staff]:
    """Counsellors and supervisors on the supervisor's lines, with their live load."""
    if role_of(user) != Role.SUPERVISOR:
        return Staff.objects.none()
    return (
        Staff.objects.filter(lines__in=user.staff.lines.all(), role__in=[Role.COUNSELLOR, Role.SUPERVISOR])
        .distinct()
        .annotate(
            load=Count(
                "contacts", filter=Q(contacts__status__in=[ContactStatus.ACTIVE, ContactStatus.WRAPUP]), distinct=True
            )
        )
        .select_related("user")
        .order_by("user__username")
    )
