"""Kenya's CPIMS (Child Protection Information Management System): a referral as a case report.

What it does (operators: docs/TRANSPORTS.md):

- **the case report** (``case_report``): the canonical referral document, cut to
  the agency's fields, as the JSON of ``POST /api/v1/crs/``: case category and
  sub-category from the taxonomy's national mapping (``categories[].national.cpims``;
  online abuse is ``CCOA`` with ``OALS``, ``OAOG``, ``OASE``, ``OAST``, ``OACB``,
  ``OASA``), county and constituency codes from the child's region code
  (``KE-047`` or ``KE-047-285``), the child, perpetrators, caregivers, case details
  and the narrative. What is not shared is left out: never a placeholder phone
  number or a default date of birth;
- **our stable id**: the referral id goes in every report as ``external_id``, so
  CPIMS can tell a resent report from a new case (it creates a new case for every
  POST without one);
- **delivery** (``transport``): ``Authorization: Token …``; CPIMS answers some
  failures with HTTP 200 and an error body, so success is a 2xx answer whose body
  names the new case and carries no error. The case id is kept through
  ``DeliveryRequest.remember`` the moment it is known, and a later attempt that
  finds it returns it without posting again.

How it plugs in: ``apps.CpimsConfig.ready`` registers ``CpimsTransport`` with
``referrals.transports``. It imports ``referrals`` and ``helpline`` and no other
integration; it emits no audit events of its own. It never logs the token or
the payload.

Tests: ``tests/integrations/cpims/``, against a CPIMS stand-in on 127.0.0.1
that checks the token and the fields, answers its errors with HTTP 200, and
counts reports posted twice.
"""
