"""``{% console_pane pane %}``: render one pane registered through helpline.panes, with its own context."""

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def console_pane(context, pane: dict):
    request = context.get("request")
    return render_to_string(pane["template"], {**pane["context"], "pane_name": pane["name"]}, request=request)
