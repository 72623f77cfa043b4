"""Write paths for login sessions: clearing the expired ones (a periodic job, registered in helpline.apps)."""

from django.contrib.sessions.models import Session
from django.utils import timezone


def sessions_clear_expired() -> int:
    """Delete sessions past their idle expiry, so the table holds only live logins."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
