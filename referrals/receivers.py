"""What the referrals app listens to, connected once from ReferralsConfig.ready().

``cases.signals.case_facts_changed`` (after commit): evaluate the line's active SOP and bring
the case's proposed referrals up to date (referrals.services.referrals.referrals_propose).
A failure is logged by the sender with the case id only; the case's own change stands.
"""

from cases.signals import case_facts_changed
from referrals.services.referrals import referrals_propose


def case_facts_changed_received(sender, *, case_id, actor_id=None, **kwargs) -> None:
    # cases.signals sends after commit and logs a receiver's failure (case id only) without raising.
    referrals_propose(case_id=case_id, actor_id=actor_id)


def receivers_connect() -> None:
    case_facts_changed.connect(case_facts_changed_received, dispatch_uid="referrals-evaluate-sop")
