"""The admin pages of the helpline app; every save goes through helpline.services.

- ``lines``: lines (plain fields for languages, risk phrases, the survey, opening
  hours and their exceptions; see ``line_fields``) and prepared replies;
- ``staff``: "Add staff member", staff profiles and user accounts, passwords, 2FA resets;
- ``endpoints``: SMS and WhatsApp numbers with their write-only auth tokens;
- ``internal``: the machinery's tables, taken out of sight.

The site itself (title, index, who may enter) is helpline.admin_site.
"""

from helpline.admin import endpoints, internal, lines, staff

__all__ = ["endpoints", "internal", "lines", "staff"]
