"""Case references a person can read over the phone: ``HK7-3PQ9-X``.

Seven random characters and a check character from an alphabet without the
characters people confuse (0/O, 1/I/L, U/V is kept apart by dropping U). The check
character is Luhn mod N over the alphabet, which catches every single wrong
character and every swap of two neighbours.
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 7
# "HK7-3PQ9-X": groups of 3 and 4, then the check character.
REFERENCE_LENGTH = BODY_LENGTH + 1 + 2
_INDEX = {char: index for index, char in enumerate(ALPHABET)}


def check_character(body: str) -> str:
    n = len(ALPHABET)
    total = 0
    factor = 2
    for char in reversed(body):
        addend = factor * _INDEX[char]
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def reference_format(body: str) -> str:
    return f"{body[:3]}-{body[3:]}-{check_character(body)}"


def reference_new() -> str:
    return reference_format("".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH)))


def reference_normalise(text: str) -> str | None:
    """The canonical form of a reference typed or read back by a person, or None if it is not one.

    Spaces, dashes and case do not matter. Characters outside the alphabet (0, O, 1, I, L, U)
    and a wrong check character are refused rather than guessed at.
    """
    if not isinstance(text, str):
        return None
    compact = "".join(char for char in text.upper() if char not in " -")
    if len(compact) != BODY_LENGTH + 1 or any(char not in _INDEX for char in compact):
        return None
    body, check = compact[:BODY_LENGTH], compact[BODY_LENGTH]
    if check_character(body) != check:
        return None
    return reference_format(body)
