"""Background work of the helpline app."""

from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks import task


@task()
def sessions_clear_expired() -> int:
    """Delete sessions past their idle expiry, so the table holds only live logins."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@task()
def message_deliver(message_id: str) -> str:
    """Send one outbound message (retried with backoff by the service on temporary failures)."""
    from helpline.messaging import message_deliver_attempt

    return message_deliver_attempt(message_id=message_id)
