"""Permission-aware reads of the cases app; the one place case content is unsealed (and audited).

- ``access``: ``cases_visible_to(user)`` (the rule every list and page reuses), ``wrapups_writable_by``;
- ``content``: ``case_read``, ``case_shareable_content``, ``wrapup_summary_read`` (audited);
- ``facts``: ``case_facts(case)`` for the SOP engine (no protected text);
- ``repeats``: earlier cases of the same sender, by blind index;
- ``taxonomy``: the line's version, regions and labels.
"""

from cases.selectors.access import case_is_visible, cases_visible_to, supervises_case, wrapups_writable_by
from cases.selectors.content import CaseContent, case_read, case_shareable_content, wrapup_summary_read
from cases.selectors.facts import case_facts
from cases.selectors.repeats import repeat_cases_for

__all__ = [
    "CaseContent",
    "case_facts",
    "case_is_visible",
    "case_read",
    "case_shareable_content",
    "cases_visible_to",
    "repeat_cases_for",
    "supervises_case",
    "wrapup_summary_read",
    "wrapups_writable_by",
]
