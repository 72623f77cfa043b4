"""Every write of the referrals app, one module per subject (keyword-only ``<thing>_<verb>``, audited).

- ``agencies``: the agency directory and authority users' agency.
"""
