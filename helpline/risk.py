"""Risk phrases: words that raise a waiting contact's priority. A person always confirms or clears the flag."""

import re
import unicodedata


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _phrases(line, language: str) -> list[str]:
    phrases_by_language = line.risk_phrases or {}
    if language in phrases_by_language:
        return list(phrases_by_language[language])
    return [phrase for phrases in phrases_by_language.values() for phrase in phrases]


def _pattern(phrase: str) -> str:
    # Whole words only: "kill" must not match "skill".
    return rf"(?<!\w){re.escape(_fold(phrase))}(?!\w)"


def risk_phrase_found(*, line, text: str, language: str) -> bool:
    """Whether ``text`` contains one of the line's risk phrases for its language (or any language if unknown)."""
    folded = _fold(text)
    return any(re.search(_pattern(phrase), folded) for phrase in _phrases(line, language) if phrase.strip())


def risk_phrase_spans(*, line, text: str, language: str) -> list[tuple[int, int]]:
    """Where in ``text`` the line's risk phrases match, as (start, end) offsets into ``text`` itself.

    Matching runs on the folded text (as ``risk_phrase_found``); each folded character
    remembers the character of ``text`` it came from, so the offsets fit the original even
    where folding changes lengths ("ß" becomes "ss"). Overlapping matches are merged.
    """
    folded_chars, origin = [], []
    for index, character in enumerate(text):
        for folded in _fold(character):
            folded_chars.append(folded)
            origin.append(index)
    folded = "".join(folded_chars)
    spans = []
    for phrase in _phrases(line, language):
        if not phrase.strip():
            continue
        for match in re.finditer(_pattern(phrase), folded):
            if match.end() > match.start():
                spans.append((origin[match.start()], origin[match.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
