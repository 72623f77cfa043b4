"""Write paths of the referral API: agencies' API keys, their use, and idempotent writes.

A key is made, rotated and revoked by an administrator (``actor=None`` is the system: a
management command, the tests). The secret exists in clear only in what
``api_key_create`` and ``api_key_rotate`` return, to be shown once; the audit trail names
the key by its public prefix, never the secret.
"""

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpline.access import is_administrator
from helpline.audit.services import audit_record
from referrals import actions
from referrals.models import Agency, ApiKey, ApiScope, IdempotentRequest

KEY_PREFIX = "hlk"
PREFIX_BYTES = 6  # 12 hex characters: public, finds the row
SECRET_BYTES = 32  # 256 bits
DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=30)
# last_used_at is written at most this often per key: one UPDATE a minute, not one a request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
IDEMPOTENCY_TTL = timedelta(hours=24)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _require_administrator(actor) -> None:
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied(_("Only an administrator can manage API keys."))


def _scopes_clean(scopes) -> list[str]:
    known = [scope.value for scope in ApiScope]
    given = set(scopes or [])
    if not given or not given <= set(known):
        raise ValidationError(_("Choose at least one scope of: %(scopes)s.") % {"scopes": ", ".join(known)})
    return [scope for scope in known if scope in given]


def _new_key(*, agency: Agency, name: str, scopes: list[str], actor, expires_at=None) -> tuple[ApiKey, str]:
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_hex(SECRET_BYTES)
    key = ApiKey.objects.create(
        agency=agency,
        name=name,
        prefix=prefix,
        secret_sha256=secret_digest(secret),
        scopes=scopes,
        created_by=actor,
        expires_at=expires_at,
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_create(*, actor, agency: Agency, name: str, scopes, expires_at=None) -> tuple[ApiKey, str]:
    """A new key for ``agency``; returns it and its full secret, which is never available again."""
    _require_administrator(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the key a name (which system of the agency uses it)."))
    with transaction.atomic():
        key, secret = _new_key(
            agency=agency, name=name[:120], scopes=_scopes_clean(scopes), actor=actor, expires_at=expires_at
        )
        audit_record(
            action=actions.API_KEY_CREATED,
            actor=actor,
            record=key,
            details={"agency": agency.code, "prefix": key.prefix, "scopes": key.scopes},
        )
    return key, secret


def api_key_rotate(*, actor, key: ApiKey, overlap: timedelta = DEFAULT_OVERLAP) -> tuple[ApiKey, str]:
    """A new key with the same agency, name and scopes; the old one keeps working for ``overlap``
    (never longer than it would have anyway), so the agency can switch without a gap."""
    _require_administrator(actor)
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise ValidationError(_("The overlap must be between 0 and 30 days."))
    with transaction.atomic():
        old = ApiKey.objects.select_for_update().select_related("agency").get(pk=key.pk)
        now = timezone.now()
        if not old.is_usable(now) or old.replaced_by_id is not None:
            raise ValidationError(_("Only a key in use that was not rotated already can be rotated."))
        new, secret = _new_key(agency=old.agency, name=old.name, scopes=old.scopes, actor=actor)
        ends = now + overlap
        old.expires_at = min(ends, old.expires_at) if old.expires_at else ends
        old.replaced_by = new
        old.save(update_fields=["expires_at", "replaced_by"])
        audit_record(
            action=actions.API_KEY_ROTATED,
            actor=actor,
            record=new,
            details={
                "agency": old.agency.code,
                "old_prefix": old.prefix,
                "prefix": new.prefix,
                "old_expires_at": old.expires_at.isoformat(),
            },
        )
    return new, secret


def api_key_revoke(*, actor, key: ApiKey) -> ApiKey:
    """Stop a key at once (the next request with it is refused)."""
    _require_administrator(actor)
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().select_related("agency").get(pk=key.pk)
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            action=actions.API_KEY_REVOKED,
            actor=actor,
            record=key,
            details={"agency": key.agency.code, "prefix": key.prefix},
        )
    return key


def api_key_mark_used(*, key: ApiKey, now=None) -> None:
    """Record that the key was used; one UPDATE a minute at most, however many requests."""
    now = now or timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now


# --- idempotent writes -------------------------------------------------------------------------


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before for a different request."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    replayed: bool = False


def api_idempotent_call(*, api_key: ApiKey, key: str, fingerprint: str, call: Callable[[], Answer]) -> Answer:
    """Run ``call`` once per (API key, Idempotency-Key): a repeat with the same ``fingerprint``
    gets the stored answer, one with another fingerprint raises IdempotencyMismatch.

    The key's row is written first, in the same transaction as the write it guards, so a
    concurrent twin waits on the unique index and then replays what the first one answered.
    Only success is stored: a refused request (an exception from ``call``) rolls the row back
    with everything else, and may be sent again under the same key."""
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    api_key=api_key,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=0,
                    expires_at=now + IDEMPOTENCY_TTL,
                )
        except IntegrityError:
            earlier = IdempotentRequest.objects.get(api_key=api_key, key=key)
            if earlier.expires_at > now:
                if earlier.fingerprint != fingerprint:
                    raise IdempotencyMismatch from None
                return Answer(earlier.status_code, earlier.response, replayed=True)
            # Expired but not yet swept: the key is free again.
            earlier.delete()
            record = IdempotentRequest.objects.create(
                api_key=api_key, key=key, fingerprint=fingerprint, status_code=0, expires_at=now + IDEMPOTENCY_TTL
            )
        answer = call()
        record.status_code, record.response = answer.status, answer.body
        record.save(update_fields=["status_code", "response"])
    return answer


def idempotent_requests_expire() -> int:
    """Forget stored answers past their expiry (a periodic job)."""
    deleted, _by_model = IdempotentRequest.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
