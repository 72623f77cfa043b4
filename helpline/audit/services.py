"""Write path of the audit trail: one function, ``audit_record``."""

import functools
import ipaddress
import json
import re

from django.db import NotSupportedError, connections, router, transaction
from django.utils import timezone

from helpline.audit.actions import action_is_registered
from helpline.audit.chain import canonical_json
from helpline.audit.linker import audit_link_pending
from helpline.audit.models import AuditEvent
from helpline.vault.redaction import redact

ACTION_PATTERN = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)+")
MAX_ACTION_LENGTH = 64
MAX_REASON_LENGTH = 1000
# Details are facts about an event (a device id, a count, a field name), never content.
MAX_DETAILS_LENGTH = 4096


def audit_record(
    *,
    action: str,
    actor=None,
    subject=None,
    request=None,
    record=None,
    reason: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail and return it.

    - ``action``: a registered name (``helpline.audit.actions.action_register``; lower-case, dotted).
    - ``actor``: the user who acted; None (or anonymous) for the system.
    - ``subject``: a user the event is about (whose 2FA was reset, who failed to log in).
    - ``record``: a saved model instance the event is about; its ``app_label.model``
      and primary key are stored, never its contents. ``(model, pk)`` names one read as a
      plain row (a batch written set-based) the same way.
    - ``request``: used only for the client address (REMOTE_ADDR). No headers,
      body, cookies or query string are read.
    - ``reason``: why a person did it ("break glass" justification). Phone
      numbers, e-mail addresses and any protected value that passed through the
      vault in this context are masked before storing.
    - ``details``: a small JSON object of non-sensitive facts. Only strings,
      integers, booleans, null, lists and objects (floats do not round-trip
      exactly through PostgreSQL's jsonb, so the hash could not be recomputed).

    NEVER pass message bodies, case notes, transcripts, names of children or
    other people involved, phone numbers, handles or addresses of the public,
    passwords, codes or keys, in ``reason`` or ``details``. The audit trail is
    kept forever and cannot be edited or shredded: what goes in stays. Point at
    the record instead (``record=case``) and let the reader open it through the
    vault, which audits that read in turn.

    The event joins the caller's transaction, so it is committed with the action it
    describes or not at all. No lock is taken: audited transactions run in parallel.
    The linker (``helpline.audit.linker.audit_link_pending``, a periodic job) gives
    the event its place in the keyed chain within seconds of the commit; on SQLite,
    where every write transaction already holds the database's one write lock, it is
    linked here at once.
    """
    return audit_record_many(
        [
            {
                "action": action,
                "actor": actor,
                "subject": subject,
                "request": request,
                "record": record,
                "reason": reason,
                "details": details,
            }
        ]
    )[0]


def audit_record_many(entries: list[dict]) -> list[AuditEvent]:
    """Several events at once, each given as ``audit_record``'s keyword arguments; the events, in order.

    The same checks and the same rows as that many ``audit_record`` calls, in the caller's
    transaction, written by one multi-row INSERT on PostgreSQL (a batch of deliveries records
    its outcomes this way). The linker chains them like any others, in id order.
    """
    events = [_event(**entry) for entry in entries]
    if not events:
        return events
    using = router.db_for_write(AuditEvent)
    vendor = connections[using].vendor
    if vendor == "postgresql":
        _insert(events, connections[using])
    elif vendor == "sqlite":
        with transaction.atomic(using=using):
            for event in events:
                event.save(using=using)
            audit_link_pending(using=using)
    else:
        raise NotSupportedError(f"The audit trail supports PostgreSQL and SQLite, not {vendor}.")
    return events


def _event(
    *, action: str, actor=None, subject=None, request=None, record=None, reason: str = "", details: dict | None = None
) -> AuditEvent:
    actor_id, actor_username = _who(actor)
    subject_id, subject_username = _who(subject)
    record_type, record_id = _record_reference(record)
    event = AuditEvent(
        created_at=timezone.now(),
        action=_clean_action(action),
        actor_id=actor_id,
        actor_username=actor_username,
        subject_id=subject_id,
        subject_username=subject_username,
        record_type=record_type,
        record_id=record_id,
        reason=redact(str(reason))[:MAX_REASON_LENGTH],
        details=_clean_details(details),
        ip_address=_client_address(request),
    )
    event._from_audit_record = True
    return event


_INSERTED_FIELDS = (
    "created_at",
    "action",
    "actor_id",
    "actor_username",
    "subject_id",
    "subject_username",
    "record_type",
    "record_id",
    "reason",
    "details",
    "ip_address",
)


@functools.lru_cache(maxsize=8)
def _insert_sql(using: str) -> str:
    connection = connections[using]
    fields = [AuditEvent._meta.get_field(name) for name in _INSERTED_FIELDS]
    columns = ", ".join(field.column for field in fields)
    # One array per column (the details as canonical JSON text): the same statement text for any number of
    # events, so psycopg parses it once.
    arrays = ", ".join(f"%s::{'jsonb' if field.name == 'details' else field.db_type(connection)}[]" for field in fields)
    return (
        f"INSERT INTO {AuditEvent._meta.db_table} ({columns}) "  # noqa: S608 (names from the model, values bound)
        f"SELECT {columns} FROM unnest({arrays}) WITH ORDINALITY AS v({columns}, position) ORDER BY position "
        "RETURNING id"
    )


def _insert(events: list[AuditEvent], connection) -> None:
    """One prepared-shape INSERT on PostgreSQL: every audited transaction pays for this, so skip the ORM's compiler.

    The values are the model's own, already cleaned; the rows read back through the ORM as any
    other. Several events are one INSERT of the rows in their order, so their ids (one session's
    sequence, increasing) sorted are theirs in that order.
    """
    columns: list[list] = [[] for _ in _INSERTED_FIELDS]
    details = _INSERTED_FIELDS.index("details")
    for event in events:
        for index, name in enumerate(_INSERTED_FIELDS):
            columns[index].append(canonical_json(event.details) if index == details else getattr(event, name))
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.alias), columns)
        for event, pk in zip(events, sorted(pk for (pk,) in cursor.fetchall()), strict=True):
            event.pk = pk
            event._state.adding = False
            event._state.db = connection.alias


def _who(user) -> tuple[int | None, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user.pk, user.get_username()


def _record_reference(record) -> tuple[str, str]:
    if record is None:
        return "", ""
    if isinstance(record, tuple):
        # (model, primary key): a record read as a plain row, not an instance (a batch's rows).
        model, pk = record
        if pk is None:
            raise ValueError("An audited record must be saved first.")
        return model._meta.label_lower, str(pk)
    if record.pk is None:
        raise ValueError("An audited record must be saved first.")
    return record._meta.label_lower, str(record.pk)


def _clean_action(action: str) -> str:
    if not isinstance(action, str) or len(action) > MAX_ACTION_LENGTH or not ACTION_PATTERN.fullmatch(action):
        raise ValueError(f"Audit action {action!r} is not a dotted lower-case name; see helpline.audit.actions.")
    if not action_is_registered(action):
        raise ValueError(
            f"Audit action {action!r} is not registered; the app that emits it registers it with action_register()."
        )
    return action


def _client_address(request) -> str | None:
    if request is None:
        return None
    raw = request.META.get("REMOTE_ADDR") or ""
    try:
        address = str(ipaddress.ip_address(raw.split("%", 1)[0]))
    except ValueError:
        return None
    # The field's own normalisation (IPv4-mapped IPv6 as ::ffff:1.2.3.4), so the
    # hashed text is exactly what the database stores and gives back.
    return AuditEvent._meta.get_field("ip_address").to_python(address)


def _clean_details(details: dict | None) -> dict:
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise TypeError("Audit details must be a dict.")
    _check_json(details, "details")
    text = canonical_json(details)
    if len(text) > MAX_DETAILS_LENGTH:
        raise ValueError(f"Audit details are {len(text)} characters; the limit is {MAX_DETAILS_LENGTH}.")
    # Stored exactly as hashed: tuples become lists, and so on.
    return json.loads(text)


def _check_json(value, path: str) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"Audit {path} contains a NUL character.")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or "\x00" in key:
                raise TypeError(f"Audit {path} has a key that is not a plain string: {key!r}.")
            _check_json(item, f"{path}.{key}")
        return
    raise TypeError(
        f"Audit {path} is a {type(value).__name__}; details hold only strings, integers, booleans, "
        "null, lists and objects."
    )
