"""Risk phrases: words that raise a waiting contact's priority. A person always confirms or clears the flag."""

import re
import unicodedata


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def risk_phrase_found(*, line, text: str, language: str) -> bool:
    """Whether ``text`` contains one of the line's risk phrases for its language (or any language if unknown)."""
    phrases_by_language = line.risk_phrases or {}
    if language in phrases_by_language:
        phrases = phrases_by_language[language]
    else:
        phrases = [phrase for phrases in phrases_by_language.values() for phrase in phrases]
    folded = _fold(text)
    for phrase in phrases:
        # Whole words only: "kill" must not match "skill".
        if re.search(rf"(?<!\w){re.escape(_fold(phrase))}(?!\w)", folded):
            return True
    return False
