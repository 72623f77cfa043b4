class CaseError(ValueError):
    """A step that cannot happen as asked; the message is translated and safe to show (names no content)."""
