"""Twilio: SMS and WhatsApp for the helpline, as one self-contained Django app.

What it does (operators: docs/TWILIO.md):

- **inbound messages**: ``POST /integrations/twilio/messages/`` (``views.messages``): find the
  endpoint by ``To``, check Twilio's signature with its token, parse the form, hand the
  message to ``helpline.services.inbound.message_receive``; answers empty TwiML at once;
- **delivery status callbacks**: ``POST /integrations/twilio/status/`` (``views.status``),
  handed to ``helpline.services.outbound.message_status_update`` (a callback that arrives
  before the message's SID is stored is kept and applied when it lands);
- **sending**: ``gateway.TwilioGateway``, one REST call per message from the outbox worker,
  Twilio's errors turned into plain words and a retry decision (``errors``).

Modules: ``apps`` (ready: audit actions, signal receivers), ``actions`` (the audit actions
it emits), ``signals`` (forget cached endpoints when one changes), ``endpoints`` (the
few-seconds endpoint cache), ``security`` (signatures, the public URL, audit of
refusals), ``inbound`` (form parsing, no database), ``views``, ``urls``, ``gateway``,
``errors``, ``demo`` (demo endpoints that send nowhere), and the management command
``simulate_sms`` (a signed webhook to a running server, as Twilio would send it).

How it plugs in, and the only places outside this package that name it:
``settings.HELPLINE_GATEWAYS`` maps ``sms`` and ``whatsapp`` to the gateway,
``config/urls.py`` mounts ``urls`` under ``/integrations/twilio/``, and
``settings.TWILIO_API_BASE_URL`` (tests only, loopback only) points the gateway at a
fake. Helpline never imports this package; it imports helpline and no other integration
(import-linter contracts).

Tests: ``tests/integrations/twilio/``, every request signed with Twilio's own
``RequestValidator``, replies sent to a fake Twilio REST API on 127.0.0.1
(``tests/fakes/http.py``), ``simulate_sms`` run against uvicorn.
"""
