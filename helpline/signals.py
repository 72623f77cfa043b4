"""What the helpline app announces, for outer apps to listen to (inner apps announce, outer apps listen).

Each signal is sent only after the transaction that caused it commits, so a
receiver never sees a change that was rolled back, and a receiver's failure
never undoes it. Receivers get ids, not objects: they read what they need.

- ``contact_ended(contact_id, actor_id)``: a counsellor ended a live conversation;
  the contact is in wrap-up (the Cases app opens its wrap-up record here).
- ``contact_closed(contact_id, actor_id)``: wrap-up is finished; the contact
  left the counsellor's list.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

contact_ended = Signal()
contact_closed = Signal()


def send_on_commit(signal: Signal, **kwargs) -> None:
    """Send ``signal`` once the current transaction commits; a failing receiver is logged, not raised."""

    def send():
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                logger.error("A receiver of a helpline signal failed: %r", receiver, exc_info=result)

    transaction.on_commit(send)
