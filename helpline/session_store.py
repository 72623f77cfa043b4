"""The session engine (``SESSION_ENGINE = "helpline.session_store"``), in both modes.

Django's database store with these changes: the row is found by a keyed hash of the session
key (``helpline.vault.keyed_hash``), and only that hash is stored. The cookie still carries
the key itself; a database dump, a backup or a read replica yields hashes that open no
session. Its rows live the idle timeout plus the activity stamp's interval
(``get_session_cookie_age``). A session that names Django's model backend is read as naming
``helpline.auth_backends.StaffBackend``, its subclass that replaced it. Everything else
(expiry, ``cycle_key``, ``clearsessions``, the async methods Channels uses) is Django's.
"""

from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends import db
from django.utils import timezone

from helpline.vault.keyed_hash import HashPurpose, keyed_hash


def session_key_digest(session_key: str) -> str:
    return keyed_hash(purpose=HashPurpose.SESSION_KEY, value=session_key)


class SessionStore(db.SessionStore):
    @classmethod
    def get_model_class(cls):
        # Through the app registry: the model module imports this one (for get_decoded).
        return apps.get_model("helpline", "HashedSession")

    def get_session_cookie_age(self):
        # The row outlives its last write by the idle timeout plus the interval at which the
        # activity stamp is written (helpline.middleware.idle_allowance), never less.
        return settings.SESSION_COOKIE_AGE + settings.HELPLINE_SESSION_TOUCH_SECONDS

    def load(self):
        return _backend_renamed(super().load())

    async def aload(self):
        return _backend_renamed(await super().aload())

    def _get_session_from_db(self):
        if not self.session_key:
            return None
        try:
            return self.model.objects.get(
                session_key=session_key_digest(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None

    async def _aget_session_from_db(self):
        if not self.session_key:
            return None
        try:
            return await self.model.objects.aget(
                session_key=session_key_digest(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None

    def exists(self, session_key):
        return self.model.objects.filter(session_key=session_key_digest(session_key)).exists()

    async def aexists(self, session_key):
        return await self.model.objects.filter(session_key=session_key_digest(session_key)).aexists()

    def create_model_instance(self, data):
        return self.model(
            session_key=session_key_digest(self._get_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=self.get_expiry_date(),
        )

    async def acreate_model_instance(self, data):
        return self.model(
            session_key=session_key_digest(await self._aget_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=await self.aget_expiry_date(),
        )

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key:
            self.model.objects.filter(session_key=session_key_digest(session_key)).delete()

    async def adelete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key:
            await self.model.objects.filter(session_key=session_key_digest(session_key)).adelete()


def _backend_renamed(data: dict) -> dict:
    """A session logged in before ``helpline.auth_backends`` named Django's model backend: read as the
    one that replaced it (its subclass), so nobody is logged out by the change."""
    from django.contrib.auth import BACKEND_SESSION_KEY

    from helpline.auth_backends import BACKEND, LEGACY_BACKEND

    if data.get(BACKEND_SESSION_KEY) == LEGACY_BACKEND:
        data[BACKEND_SESSION_KEY] = BACKEND
    return data
