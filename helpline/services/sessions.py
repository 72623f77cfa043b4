"""Write paths for login sessions: clearing the expired ones (a periodic job, registered in helpline.apps)."""

from django.utils import timezone

from helpline.models import HashedSession


def sessions_clear_expired() -> int:
    """Delete sessions past their idle expiry, so the table holds only live logins."""
    deleted, _ = HashedSession.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
