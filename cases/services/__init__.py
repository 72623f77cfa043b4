"""Every write of the cases app, one module per subject; keyword-only, one transaction each, audited.

- ``taxonomy``: import and publish taxonomy versions, a line's regions;
- ``wrapups``: a contact's wrap-up (draft, finish), contacts logged by hand;
- ``cases``: opening a case, linking contacts, the status machine, risk and incident facts;
- ``people``, ``notes``, ``flags``: who is involved, append-only notes, supervisors' flags;
- ``retention``, approvals and supervision: see their own module docstrings.
"""
