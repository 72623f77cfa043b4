"""Who calls the API: an agency's system, by its API key, and nothing else.

``Authorization: Bearer hlk_<prefix>_<secret>``. The prefix finds the key; the secret's
SHA-256 is compared in constant time; a revoked or expired key, an inactive agency, a wrong
secret and an unknown prefix all get the same 401. There is no session authentication under
/api/v1/: a logged-in browser's cookie opens nothing here (and the machine stack that serves
these paths does not even read it, config/machine.py).
"""

import hmac
import re

from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions

from helpline.audit.services import audit_record
from referrals import actions
from referrals.models import ApiKey
from referrals.selectors import api_key_by_prefix
from referrals.services.api_keys import KEY_PREFIX, api_key_mark_used, secret_digest

KEY_FORMAT = re.compile(rf"{KEY_PREFIX}_([0-9a-f]{{12}})_([0-9a-f]{{64}})")
REFUSED_MESSAGE = "The API key is missing, unknown, expired or revoked."
# A refused key (known prefix) is audited once per key and this many seconds at most.
REFUSAL_AUDIT_SECONDS = 60


class ApiCaller:
    """``request.user`` under the API: the agency's system, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, key: ApiKey):
        self.key = key
        self.agency = key.agency

    def __str__(self):
        return f"api:{self.key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _sep, token = header.partition(" ")
        if not header:
            return None
        if scheme.lower() != self.keyword.lower():
            raise exceptions.AuthenticationFailed(REFUSED_MESSAGE)
        match = KEY_FORMAT.fullmatch(token.strip())
        if match is None:
            raise exceptions.AuthenticationFailed(REFUSED_MESSAGE)
        prefix, secret = match.groups()
        # Read at every call, by the unique prefix, with its agency (one query written once per process).
        key = api_key_by_prefix(prefix)
        if key is None:
            # Spend the same digest work as for a known prefix.
            hmac.compare_digest(secret_digest(secret), "0" * 64)
            raise exceptions.AuthenticationFailed(REFUSED_MESSAGE)
        now = timezone.now()
        if not hmac.compare_digest(secret_digest(secret), key.secret_sha256) or not (
            key.is_usable(now) and key.agency.active
        ):
            self._audit_refusal(request, key)
            raise exceptions.AuthenticationFailed(REFUSED_MESSAGE)
        api_key_mark_used(key=key, now=now)
        return ApiCaller(key), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="referral-api"'

    @staticmethod
    def _audit_refusal(request, key: ApiKey) -> None:
        if cache.add(f"api-key-refused:{key.pk}", 1, REFUSAL_AUDIT_SECONDS):
            audit_record(
                action=actions.API_KEY_REFUSED,
                record=key,
                request=request,
                details={"agency": key.agency.code, "prefix": key.prefix, "revoked": key.revoked_at is not None},
            )
