"""``{{ case|case_url }}``: the address of a case's page, for lists that show many cases."""

from django import template

from cases import links

register = template.Library()


@register.filter
def case_url(case) -> str:
    return links.case_url(case)
