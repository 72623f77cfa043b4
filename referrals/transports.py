"""How a referral leaves the platform: the ``Transport`` protocol and the registry of transports.

A transport turns the canonical referral document (already cut down to the fields
the agency may receive; see docs/REFERRALS.md) into what one receiver speaks and
hands it over. The referral outbox calls it outside any transaction, at least once
per delivery, so it must pass the idempotency key the way its receiver understands
it (a header, a stable id in the body): a retry after a crash is never a second
referral. Failures are ``helpline.outbox.DeliveryError``: ``permanent=True`` for
what a retry cannot fix (a document the receiver's schema refuses, bad
credentials), otherwise the outbox retries with backoff.

A transport that speaks to its receiver in several steps (NCMEC: submit, then
finish) keeps what a later attempt needs through ``DeliveryRequest.remember``:
the outbox stores that small JSON dict on the delivery at once (its own short
transaction, committed before the call returns) and hands it back as
``DeliveryRequest.progress`` on every later attempt of the same delivery. So a
worker that dies between two steps leaves the next attempt enough to resume
(finish the report already submitted) instead of starting a second one. Each
call replaces what was kept; ``remember({})`` forgets it. A transport never
keeps anything itself: the outbox may run the next attempt on another worker.

A transport may also offer **hand-offs**: a step a counsellor takes with the child there and
then, not a referral (the IWF's Report Remove: the child gets a link to have their own images
taken down). Such a transport lists the kinds in ``hand_offs`` and answers ``hand_off()``
synchronously; only what ``HandOffRequest`` carries leaves the platform (an age range and a
reference that does not identify the child). ``transports_handing_off(kind)`` names them.

Transports live in ``integrations/<name>/`` (one Django app each) and register
themselves from their ``AppConfig.ready()``; ``referrals`` itself registers the
portal-only transport.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from helpline.outbox import DeliveryError
from helpline.registry import NamedRegistry

__all__ = [
    "DeliveryError",
    "DeliveryReceipt",
    "DeliveryRequest",
    "HandOff",
    "HandOffRequest",
    "Rendered",
    "TRANSPORT_VIA",
    "Transport",
    "transport_get",
    "transport_register",
    "transports_handing_off",
    "transports_registered",
]

# A step an agency's own system took through its transport (an acknowledgement in its answer) is
# recorded with this ``via`` and the transport's name, so both sides see who took it.
TRANSPORT_VIA = "transport:"


@dataclass(frozen=True)
class DeliveryRequest:
    # The canonical referral document, cut down to the agency's fields.
    document: dict = field(repr=False)
    # Stable for one delivery: the same on every attempt.
    idempotency_key: str
    # The agency's plain transport configuration (addresses, organisation ids).
    config: dict
    # Unsealed secrets (tokens, passwords, signing keys). Never logged, never in an error.
    secrets: dict = field(repr=False)
    # What an earlier attempt of this delivery kept with ``remember`` (empty on the first attempt).
    progress: Mapping = field(default_factory=dict)
    # Keep a small JSON-serialisable dict for later attempts of this delivery (see the module docstring).
    # The default keeps nothing (a preview, a test): such a caller never retries.
    remember: Callable[[dict], None] = field(default=lambda kept: None, repr=False, compare=False)


@dataclass(frozen=True)
class DeliveryReceipt:
    # The receiver's id for what it received (an NCMEC report id, a CPIMS case id), if any.
    external_reference: str = ""
    # A plain-words note for the referral's timeline; no protected content.
    detail: str = ""
    # The receiver acknowledged the referral in its answer (a webhook answering {"acknowledged": true}).
    acknowledged: bool = False


@dataclass(frozen=True)
class Rendered:
    """Exactly the bytes a receiver would get: shown as a preview and sealed as sent."""

    content_type: str
    body: bytes


@dataclass(frozen=True)
class HandOffRequest:
    """What a hand-off sends: nothing about the child but an age range, and a reference made for it."""

    # The hand-off's kind ("report_remove").
    kind: str
    # The receiver's age range ("13-15", "16-17").
    age_range: str
    # A reference made for this hand-off (random, not the case's): the same on every try of one offer.
    reference: str
    config: dict
    secrets: dict = field(repr=False)


@dataclass(frozen=True)
class HandOff:
    # The link the counsellor gives the child (https; the receiver's own page).
    link: str
    # The receiver's token or reference for it, if any.
    external_reference: str = ""


class Transport(Protocol):
    # Stable code stored on the agency ("portal", "webhook", "ncmec", "iwf", "cpims", "email").
    name: str
    # Shown to administrators.
    label: str
    # Keys of the agency's plain configuration and of its sealed secrets.
    config_fields: tuple[str, ...]
    secret_fields: tuple[str, ...]

    def validate_config(self, config: dict, secrets: dict) -> list[str]:
        """Plain-words problems with an agency's configuration; empty when it can be used."""

    def render(self, request: DeliveryRequest) -> Rendered:
        """What the receiver would get for this document; raises DeliveryError(permanent=True) if none can be built."""

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        """Hand the referral over; raises DeliveryError."""

    # Optional: the hand-off kinds this transport makes (``("report_remove",)``) and
    # ``hand_off(request: HandOffRequest) -> HandOff``, which raises DeliveryError.


_transports: NamedRegistry[Transport] = NamedRegistry("transport")


def transport_register(transport: Transport) -> Transport:
    """Make a transport available to agencies (called from the transport app's ``ready()``)."""
    return _transports.register(transport)


def transport_get(name: str) -> Transport:
    return _transports.get(name)


def transports_registered() -> list[Transport]:
    return _transports.items()


def transports_handing_off(kind: str) -> list[str]:
    """The names of the installed transports that make the hand-off ``kind`` (``report_remove``)."""
    return sorted(
        transport.name
        for transport in _transports.items()
        if kind in getattr(transport, "hand_offs", ()) and callable(getattr(transport, "hand_off", None))
    )
