"""Every write of the referrals app, one module per subject (keyword-only ``<thing>_<verb>``, audited).

- ``agencies``: the agency directory and authority users' agency.
- ``referrals``: the helpline's side of the lifecycle (proposals, decisions, consent, approval, queueing).
- ``agency_side``: the agency's side (acknowledge, accept, decline, updates and outcomes) and the
  questions both sides ask each other; called by the portal and the referral API.
- ``steps``: what the SOP's ``notify`` and ``offer`` proposals become (supervisors' notices, marked seen;
  the Report Remove hand-off link for the child).
- ``api_keys``: the referral API's keys (made, rotated, revoked by administrators; last use) and
  its idempotent writes.
"""

from referrals.services.agency_side import (
    outcome_kind_save,
    referral_accept,
    referral_acknowledge,
    referral_decline,
    referral_question_answer,
    referral_question_ask,
    referral_update_record,
)

__all__ = [
    "outcome_kind_save",
    "referral_accept",
    "referral_acknowledge",
    "referral_decline",
    "referral_question_answer",
    "referral_question_ask",
    "referral_update_record",
]
