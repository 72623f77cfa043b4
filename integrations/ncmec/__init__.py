"""NCMEC's CyberTipline: a referral as a CyberTipline report, as one self-contained Django app.

What it does (operators: docs/TRANSPORTS.md):

- **the report** (``report``): the canonical referral document, already cut to the
  agency's fields, as the report XML of NCMEC's published schema
  (``schema/cyber_tipline.xsd``, a copy of the public specification, so nothing
  outside the project is read at run time); validated before anything is sent.
  A document that cannot make a valid report (no incident type, no date) fails
  permanently with a reason naming what is missing, never a retry loop;
- **the sequence** (``transport``): ``POST /submit`` (the XML) answers a report
  id, ``POST /finish`` (that id) closes the report, ``POST /retract`` cancels it
  when finishing fails; all under HTTP Basic with the credentials NCMEC issues;
  the report id is the receipt's ``external_reference``. The file-upload calls
  are never used: the platform holds no imagery;
- **answers** (``responses``): NCMEC's numeric codes turned into plain words and a
  retry decision (2000, 3100, 4100, 4110 permanent; 1xxx and HTTP 5xx retried;
  5102 "already finished" on a resumed attempt is a success);
- **idempotency**: the report id is kept through the ``referrals.transports``
  hook ``DeliveryRequest.remember`` as soon as ``/submit`` answers, and a later
  attempt finishes that report instead of submitting another (see ``transport``).

How it plugs in: ``apps.NcmecConfig.ready`` registers ``NcmecTransport`` with
``referrals.transports.transport_register``; an agency whose transport is
``ncmec`` is delivered through it. Nothing else names this package; it imports
``referrals`` and ``helpline`` and no other integration (import-linter contracts).
It emits no audit events of its own (the referral outbox audits deliveries).

Tests: ``tests/integrations/ncmec/``, against a CyberTipline stand-in on
127.0.0.1 that validates what it receives against the same XSD and answers
with NCMEC's response codes, failures included.
"""
