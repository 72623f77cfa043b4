"""The two values an encrypted field hands out instead of text.

``Sealed`` is what the model attribute holds: the stored envelope. It has no
text form, so a template or log line that shows the attribute by mistake
shows a placeholder, never ciphertext. ``Shredded`` is what ``unseal`` returns
once the record's data key has been destroyed.
"""

from django.utils.translation import gettext


class Sealed:
    """An encrypted value as stored. Produced by ``seal()`` and by loading a row; not meant to be built by hand."""

    __slots__ = ("envelope",)

    def __init__(self, envelope: bytes):
        self.envelope = bytes(envelope)

    def __eq__(self, other):
        return isinstance(other, Sealed) and other.envelope == self.envelope

    def __hash__(self):
        return hash(self.envelope)

    def __len__(self):
        return len(self.envelope)

    def __repr__(self):
        return f"<Sealed {len(self.envelope)} bytes>"

    def __str__(self):
        return gettext("[encrypted]")


class Shredded:
    """The content existed but its key was destroyed; it can never be read again.

    Falsy (there is no content to act on), renders as a translated
    "[content destroyed]", and is a singleton so ``value is SHREDDED`` works.
    """

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self):
        return False

    def __str__(self):
        return gettext("[content destroyed]")

    def __repr__(self):
        return "SHREDDED"

    def __reduce__(self):
        return (Shredded, ())


SHREDDED = Shredded()


def is_shredded(value) -> bool:
    return value is SHREDDED
