"""HTTP of the cases app: the wrap-up pane in the console, contacts logged by hand, the case page.

Thin: parse with ``cases.forms``, read through ``cases.selectors`` (the permission rule and
the audited unsealing), write through ``cases.services``. A case out of the user's reach is a 404.
"""
