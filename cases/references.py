"""Case references a person can read over the phone: ``HK7-3PQ9-X``.

Seven random characters and a check character from an alphabet of 29 without the
characters people confuse (0/O, 1/I/L, U/V, 2/Z). The check character makes the
weighted sum of all eight (weights 1 to 8) a multiple of 29: as 29 is prime and larger
than any difference of two values, every single wrong character and every swap of two
neighbours (the check character included) changes the sum, so it is caught. (Luhn mod N
is not enough: it misses some swaps, such as of the first and last character of the alphabet.)
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXY"
BODY_LENGTH = 7
# "HK7-3PQ9-X": groups of 3 and 4, then the check character.
REFERENCE_LENGTH = BODY_LENGTH + 1 + 2
_INDEX = {char: index for index, char in enumerate(ALPHABET)}


MODULUS = len(ALPHABET)  # 29, a prime
CHECK_WEIGHT = BODY_LENGTH + 1


def check_character(body: str) -> str:
    total = sum(weight * _INDEX[char] for weight, char in enumerate(body, start=1))
    # The value c with total + 8c ≡ 0 (mod 29).
    return ALPHABET[(-total * pow(CHECK_WEIGHT, -1, MODULUS)) % MODULUS]


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
