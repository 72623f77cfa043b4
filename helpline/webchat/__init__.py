"""The children's web chat: a public page, a WebSocket, and the gateway that carries replies to it.

A sub-package of the helpline app (not an app of its own): its models are the
helpline's Contact and Message, and every message goes through
helpline.services.inbound like SMS and WhatsApp do.
"""
