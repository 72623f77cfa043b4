"""Which endpoint a webhook is for, with its auth token: read once, then kept for a few seconds.

Every webhook needs the endpoint (with its line) and its unsealed token before
anything else. That lookup, a three-table query and a key unwrap, costs more
than the rest of the adapter together (docs/PERFORMANCE.md, "Inbound
webhooks"), and at a busy moment the same few numbers receive every request.

Staleness is bounded and safe: a change saved in this process clears the cache
at once (integrations.twilio.signals); other processes see it
within CACHE_SECONDS. A signature that fails against a cached token is checked
again against a fresh read before it is refused (views), so a rotated token
never costs a message.
"""

import threading
import time
from dataclasses import dataclass

from helpline.models import ChannelEndpoint
from helpline.vault.services import unseal

CACHE_SECONDS = 5.0
MAX_ENTRIES = 256

_entries: dict[tuple[str, str], tuple[float, "Found"]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Found:
    endpoint: ChannelEndpoint
    token: str  # empty when the endpoint has none (or its key was destroyed)
    cached: bool


def endpoint_find(channel: str, address: str, *, fresh: bool = False) -> Found | None:
    """The active endpoint for ``address`` on ``channel`` (exact match, E.164), or None."""
    if not address:
        return None
    key = (channel, address)
    if not fresh:
        entry = _entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
    # (channel, address) is unique: LIMIT 1 without the ORDER BY that first() would add.
    rows = ChannelEndpoint.objects.select_related("line", "data_key").filter(
        channel=channel, address=address, active=True
    )[:1]
    endpoint = next(iter(rows), None)
    if endpoint is None:
        # Unknown numbers are not remembered: an endpoint created a moment later must work at once.
        _entries.pop(key, None)
        return None
    token = unseal(endpoint, "provider_secret")
    found = Found(endpoint=endpoint, token=token if isinstance(token, str) else "", cached=False)
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (time.monotonic() + CACHE_SECONDS, Found(endpoint, found.token, cached=True))
    return found


def endpoint_cache_clear() -> None:
    """Forget every cached endpoint (an endpoint or a line changed: integrations.twilio.signals)."""
    with _lock:
        _entries.clear()
