"""The session engine (``SESSION_ENGINE = "helpline.session_store"``), in both modes.

Django's database store with these changes: the row is found by a keyed hash of the session
key (``helpline.vault.keyed_hash``), and only that hash is stored. The cookie still carries
the key itself; a database dump, a backup or a read replica yields hashes that open no
session. Its rows live the idle timeout plus the activity stamp's interval
(``get_session_cookie_age``). A session that names Django's model backend is read as naming
``helpline.auth_backends.StaffBackend``, its subclass that replaced it.

The row also carries copies of the user and the second factor its data names
(``HashedSession.user_pk``, ``device_model``, ``device_pk``, written with it), so that a
staff request's session read joins the user, their staff profile and the device: one
statement instead of four. Only the data is believed: the joined user is used when its id
is the one the data names, the device when its persistent id is (``SignedIn``, through
``helpline.middleware.SessionAuthenticationMiddleware`` and ``SessionOTPMiddleware``);
otherwise they are read apart, as Django does. Everything else (expiry, ``cycle_key``,
``clearsessions``, the async methods Channels uses) is Django's.
"""

import contextvars
import functools
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from helpline.rawsql import Columns, instance_of
from helpline.vault.keyed_hash import HashPurpose, keyed_hash

# Django-otp's session key of the verified device ("app_label.model/pk"), read here without importing django_otp.
DEVICE_ID_SESSION_KEY = "otp_device_id"
# The second factors a session may name, whose rows its read joins.
DEVICE_MODELS = ("helpline.sealedtotpdevice", "helpline.backupcodedevice")


@dataclass(frozen=True)
class SignedIn:
    """What a session's read found beside the session: the user its row names (their staff profile cached on
    them) and the second factor it names. ``user`` / ``device`` None: the row names one that does not exist
    (deleted, or the factor removed)."""

    user_pk: int | None
    user: Any
    device_id: str
    device: Any


# The request's SignedIn while its user and second factor are being found (helpline.auth_backends).
# The sign-in backend sessions name (helpline.auth_backends.StaffBackend), and Django's that sessions
# written before it name: those are read as naming it. Here, not in the backend, which reads SIGNED_IN.
LEGACY_BACKEND = "django.contrib.auth.backends.ModelBackend"
BACKEND = "helpline.auth_backends.StaffBackend"
SIGNED_IN: contextvars.ContextVar[SignedIn | None] = contextvars.ContextVar("helpline_signed_in", default=None)


@contextmanager
def signed_in_from(session):
    """While inside, the backend and the 2FA middleware take the user and the device from ``session``'s read."""
    session.get(SESSION_KEY)  # loads the session (once per request), and with it what its read joined
    token = SIGNED_IN.set(getattr(session, "signed_in", None))
    try:
        yield
    finally:
        SIGNED_IN.reset(token)


def session_key_digest(session_key: str) -> str:
    return keyed_hash(purpose=HashPurpose.SESSION_KEY, value=session_key)


class SessionStore(db.SessionStore):
    signed_in: SignedIn | None = None  # what the last read joined (none yet, or no such session)

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
        # One statement: the session, the user it names with their staff profile, and their second factor.
        if not self.session_key:
            return None
        found = _session_read(self.model, session_key_digest(self.session_key), timezone.now())
        if found is None:
            self._session_key = None
            return None
        session, self.signed_in = found
        return session

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
            **_names_of(data),
        )

    async def acreate_model_instance(self, data):
        return self.model(
            session_key=session_key_digest(await self._aget_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=await self.aget_expiry_date(),
            **_names_of(data),
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

    if data.get(BACKEND_SESSION_KEY) == LEGACY_BACKEND:
        data[BACKEND_SESSION_KEY] = BACKEND
    return data


def _names_of(data: dict) -> dict:
    """The row's copies of the user and the second factor ``data`` names (empty where it names none)."""
    user_pk = str(data.get(SESSION_KEY, ""))
    device_model, _slash, device_pk = str(data.get(DEVICE_ID_SESSION_KEY, "")).partition("/")
    device_known = device_model in DEVICE_MODELS and device_pk.isdigit()
    return {
        "user_pk": int(user_pk) if user_pk.isdigit() else None,
        "device_model": device_model if device_known else "",
        "device_pk": int(device_pk) if device_known else None,
    }


def _session_read(model, digest: str, now):
    """(session, SignedIn) of the unexpired session stored under ``digest``, or None."""
    using = router.db_for_read(model)
    connection = connections[using]
    sql, columns, parts = _session_sql(model, using)
    expire_date = model._meta.get_field("expire_date").get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*DEVICE_MODELS, digest, expire_date])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(columns.convert(connection, row))
    found = {}
    for name, part_model, width in parts:
        fields = [next(values) for _ in range(width)]
        attnames = [field.attname for field in part_model._meta.concrete_fields]
        found[name] = (
            None
            if fields[attnames.index(part_model._meta.pk.attname)] is None
            else (instance_of(part_model, connection, dict(zip(attnames, fields, strict=True))))
        )
    session, user, staff = found["session"], found["user"], found["staff"]
    if user is not None:
        # As select_related("staff") leaves it: the profile, or None that reads as "no profile".
        get_user_model().staff.related.set_cached_value(user, staff)
    device = found[session.device_model] if session.device_model in found else None
    device_id = f"{session.device_model}/{session.device_pk}" if session.device_model else ""
    return session, SignedIn(user_pk=session.user_pk, user=user, device_id=device_id, device=device)


@functools.cache
def _session_sql(model, using: str):
    connection = connections[using]
    quote = connection.ops.quote_name
    user_model = get_user_model()
    staff_model = user_model.staff.related.related_model
    totp, backup = (apps.get_model(label) for label in DEVICE_MODELS)
    parts = [
        ("session", model, "s"),
        ("user", user_model, "u"),
        ("staff", staff_model, "st"),
        (DEVICE_MODELS[0], totp, "t"),
        (DEVICE_MODELS[1], backup, "b"),
    ]
    columns = Columns()
    for _name, part_model, alias in parts:
        columns.add(connection, alias, part_model)

    def table(part_model):
        return quote(part_model._meta.db_table)

    user_pk = quote(user_model._meta.pk.column)
    staff_user = quote(staff_model._meta.get_field("user").column)
    sql = (
        f"SELECT {columns.select()} FROM {table(model)} s "  # noqa: S608 (names from the models, values bound)
        f"LEFT JOIN {table(user_model)} u ON u.{user_pk} = s.{quote('user_pk')} "
        f"LEFT JOIN {table(staff_model)} st ON st.{staff_user} = u.{user_pk} "
        f"LEFT JOIN {table(totp)} t ON s.{quote('device_model')} = %s "
        f"AND t.{quote(totp._meta.pk.column)} = s.{quote('device_pk')} "
        f"LEFT JOIN {table(backup)} b ON s.{quote('device_model')} = %s "
        f"AND b.{quote(backup._meta.pk.column)} = s.{quote('device_pk')} "
        f"WHERE s.{quote('session_key')} = %s AND s.{quote('expire_date')} > %s"
    )
    widths = [(name, part_model, len(part_model._meta.concrete_fields)) for name, part_model, _alias in parts]
    return sql, columns, widths
