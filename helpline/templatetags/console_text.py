"""Message text in the consoles: risk phrases marked where they matched, line breaks kept, everything escaped."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from helpline.risk import risk_phrase_spans

register = template.Library()


def _escaped_lines(text: str) -> str:
    return escape(text).replace("\r\n", "\n").replace("\n", "<br>")


@register.filter
def risk_marked(body, contact):
    """``body`` (a message of ``contact``) as HTML, with each matched risk phrase in a <mark>."""
    if not isinstance(body, str):
        return body
    spans = risk_phrase_spans(line=contact.line, text=body, language=contact.language)
    parts, position = [], 0
    for start, end in spans:
        parts.append(_escaped_lines(body[position:start]))
        parts.append(f'<mark class="risk-word">{_escaped_lines(body[start:end])}</mark>')
        position = end
    parts.append(_escaped_lines(body[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped
