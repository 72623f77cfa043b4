"""What the cases app announces, for outer apps (referrals) to listen to.

- ``case_facts_changed(case_id, actor_id)``: a case was classified, or its risk or
  facts changed (``cases.selectors.case_facts`` reads the new facts). Sent after the
  transaction commits; a failing receiver is logged, never raised.
"""

from django.dispatch import Signal

from helpline.signals import send_on_commit

case_facts_changed = Signal()


def case_facts_announce(*, case_id: int, actor_id: int | None) -> None:
    send_on_commit(case_facts_changed, case_id=case_id, actor_id=actor_id)
