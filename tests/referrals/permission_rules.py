"""Who may use each referrals URL (collected by tests/test_permission_matrix.py; see tests/permissions.py)."""

from tests.permissions import expect, signed_in

expect("referrals:inbox", "get", "/authority/", outcomes=signed_in(403, authority=200))
