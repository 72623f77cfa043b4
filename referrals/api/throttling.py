"""Rate limits per API key (DRF's throttling on the Django cache: Redis in production).

The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"]`` (``HELPLINE_API_RATE``,
120 requests a minute by default); a request over it gets 429 with ``Retry-After``.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from referrals.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def get_rate(self):
        # Read at each request, not at import, so that a changed setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
