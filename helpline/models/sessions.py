from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpline.session_store import SessionStore


class HashedSession(AbstractBaseSession):
    """A login session stored under a keyed hash of its key, never the key (the cookie) itself.

    ``session_key`` holds ``keyed_hash(purpose=SESSION_KEY, value=<cookie value>)``, so a copy
    of this table names no cookie: presenting a stored value as a cookie finds nothing.
    Read and written only through ``helpline.session_store.SessionStore``.
    """

    session_key = models.CharField(_("session key digest"), max_length=64, primary_key=True)
    # Copies of what the session's data names, so that the session's read joins the user, their staff
    # profile and their second factor (helpline.session_store); the data stays what is believed: a copy
    # that differs from it only costs the separate reads.
    user_pk = models.BigIntegerField(null=True, blank=True)
    device_model = models.CharField(max_length=64, blank=True)
    device_pk = models.BigIntegerField(null=True, blank=True)

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")

    @classmethod
    def get_session_store_class(cls):
        return SessionStore
