"""A webhook receiver on 127.0.0.1 that checks signatures the way docs/WEBHOOK.md tells receivers to.

``receiver.referrals`` holds the referrals it accepted, deduplicated by ``Idempotency-Key``
(as a receiver should); ``receiver.answer(...)`` changes what it answers; each request is
also recorded by the fake server (``receiver.server.requests_to``).
"""

import json
from dataclasses import dataclass, field

import pytest

from integrations.webhook.signing import signature_verify
from referrals.transports import DeliveryRequest
from tests.fakes.http import Recorded, Reply
from tests.integrations.referral_documents import full_document

SECRET = "receiver-shared-secret-0123456789"
PATH = "/helpline/referrals"


@dataclass
class Receiver:
    server: object
    secret: str = SECRET
    referrals: dict = field(default_factory=dict)
    refused_signatures: int = 0
    acknowledge: bool = False

    @property
    def url(self) -> str:
        return self.server.url + PATH

    def handle(self, request: Recorded) -> Reply:
        if not signature_verify(
            secret=self.secret,
            timestamp=request.headers.get("X-Helpline-Timestamp", ""),
            signature=request.headers.get("X-Helpline-Signature", ""),
            body=request.body,
        ):
            self.refused_signatures += 1
            return Reply(401, json={"error": "bad signature"})
        key = request.headers["Idempotency-Key"]
        document = json.loads(request.body)
        reference = self.referrals.setdefault(key, {"document": document, "reference": f"AG-{len(self.referrals) + 1}"})
        return Reply(201, json={"reference": reference["reference"], "acknowledged": self.acknowledge})

    def serve(self, agency) -> None:
        """Point ``agency``'s deliveries at this receiver, signed with its secret."""
        from referrals.services.agencies import agency_update

        agency_update(
            actor=None,
            agency=agency,
            transport="webhook",
            transport_config={"url": self.url},
            secrets={"signing_secret": self.secret},
        )

    def request_for(self, document=None, *, key="delivery-1", url=None, secret=None) -> DeliveryRequest:
        return DeliveryRequest(
            document=document if document is not None else full_document(),
            idempotency_key=key,
            config={"url": url or self.url},
            secrets={"signing_secret": secret or self.secret},
        )


@pytest.fixture
def receiver(fake_http):
    server = fake_http()
    receiver = Receiver(server=server)
    server.route("POST", PATH, receiver.handle)
    return receiver
