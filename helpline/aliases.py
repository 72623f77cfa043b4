"""Short names for conversations ("C-4821"), so a counsellor with three chats tells them apart.

An alias is random: it is never derived from the sender's number or handle, so it
reveals nothing about who wrote. It only has to be unique among the line's open
conversations at the moment it is given; closed ones may share it.
"""

import secrets

from helpline.models.conversations import OPEN_STATUSES, Contact

ALIAS_PREFIX = "C-"
ATTEMPTS = 8


def alias_new(*, line_id) -> str:
    """A four-digit alias not used by another open conversation of the line (five digits if crowded)."""
    for attempt in range(ATTEMPTS):
        digits = 4 if attempt < ATTEMPTS // 2 else 5
        alias = f"{ALIAS_PREFIX}{secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1)}"
        if not Contact.objects.filter(line_id=line_id, status__in=OPEN_STATUSES, alias=alias).exists():
            return alias
    return f"{ALIAS_PREFIX}{secrets.randbelow(900000) + 100000}"
