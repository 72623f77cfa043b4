"""The Internet Watch Foundation: URL reports and the Report Remove hand-off, as one self-contained Django app.

What it does (operators: docs/TRANSPORTS.md):

- **URL reports** (``reports.url_report``): one JSON report per reported address
  (``POST {base_url}/report``, HTTP Basic): the URL (at most 1,000 characters),
  a description (at most 500: categories, platform, the summary if the agency may
  receive it), the reporter anonymous or named (the helpline's contact person,
  never the child; names at most 50 characters, e-mail at most 100), the
  reporter's country, and the channel, media type and category codes the IWF
  assigned to the partner;
- **Report Remove** (``reports.report_remove``): for a child aged 13 to 17 who
  wants their own imagery taken down, ``POST {base_url}/report-remove`` with only
  the IWF's age range (13-15 or 16-17) and a reference that does not identify the
  child; the IWF answers a token and a link, which the receipt carries to the
  referral's timeline so the counsellor can give the child the link. The platform
  never sees or holds the image;
- **delivery** (``transport``): the URL reports, then the hand-off; each one done
  is kept through ``DeliveryRequest.remember``, so a retry reports only what is
  left (the IWF creates a report per POST); every POST also carries an
  ``Idempotency-Key``. HTTP 401/403 and 400/422 are permanent, 429, 5xx and
  network errors retried.

How it plugs in: ``apps.IwfConfig.ready`` registers ``IwfTransport`` with
``referrals.transports``. It imports ``referrals`` and ``helpline`` and no other
integration; it emits no audit events of its own.

Tests: ``tests/integrations/iwf/``, against an IWF stand-in on 127.0.0.1 that
checks the partner's credentials, the fields and their limits, and answers a
Report Remove token once per reference.
"""
