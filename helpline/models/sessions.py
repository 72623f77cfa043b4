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

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")

    @classmethod
    def get_session_store_class(cls):
        return SessionStore
