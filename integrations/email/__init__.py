"""The e-mail notice: for agencies that have nothing else, a message that a referral waits in the portal.

What it does (operators: docs/TRANSPORTS.md):

- **the notice** (``notice``): to the addresses of the agency's configuration,
  through Django's e-mail backends (``settings.EMAIL_BACKEND``: SMTP in production,
  the console in the embedded mode), a message naming the helpline, the agency,
  the urgency and the acknowledgement deadline, with a link to the authority
  portal (``settings.PUBLIC_BASE_URL`` + ``/authority/``), where the referral is
  read after signing in with two factors. **Never case content**: no name, phone
  number, narrative, category, URL or case reference, whatever the agency may
  receive (e-mail is copied, forwarded and read on shared screens);
- **delivery** (``transport``): one message per delivery; its ``Message-ID`` is
  derived from the idempotency key, so a notice resent after a crash is the same
  message to mail software. Refused recipients are permanent failures, an
  unreachable mail server is retried.

How it plugs in: ``apps.EmailNoticeConfig.ready`` registers
``EmailNoticeTransport`` with ``referrals.transports`` under the code ``email``.
It imports ``referrals`` and ``helpline`` and no other integration; it emits no
audit events of its own.

Tests: ``tests/integrations/email/``, with Django's in-memory backend and the
SMTP backend against a closed port on 127.0.0.1.
"""
