"""Notifications through the channel layer, sent only after the transaction commits.

Events carry identifiers, never content: a consumer that receives one reads
the record from the database for its own user. The layer may drop events, so
nothing may depend on one arriving; a reconnecting console reloads its state.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def line_group(line_id) -> str:
    return f"line-{line_id}"


def contact_group(contact_id) -> str:
    return f"contact-{contact_id}"


def staff_group(staff_id) -> str:
    return f"staff-{staff_id}"


def broadcast_after_commit(group: str, event: dict) -> None:
    def send():
        try:
            async_to_sync(get_channel_layer().group_send)(group, event)
        except Exception:
            # The record is committed; a dropped notification is recovered on reconnect.
            logger.warning("Could not notify %s of %s", group, event.get("type"), exc_info=True)

    transaction.on_commit(send)
