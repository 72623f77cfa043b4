"""A gateway standing in for the outside world in tests of the delivery path (not of any adapter)."""

from helpline.gateways import GatewayError, SendResult

SENT: list = []
# Each entry is what the next send does: "ok", "temporary" or "permanent".
SCRIPT: list[str] = []


class RecordingGateway:
    def send(self, outgoing):
        action = SCRIPT.pop(0) if SCRIPT else "ok"
        if action == "temporary":
            raise GatewayError("The provider did not answer.", permanent=False, code="503")
        if action == "permanent":
            raise GatewayError("This number cannot receive messages.", permanent=True, code="21614")
        SENT.append(outgoing)
        return SendResult(provider_id=f"SM{len(SENT):032d}", status="sent")
