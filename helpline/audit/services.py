"""Audit trail write path (placeholder until the audit app lands)."""


def audit_record(*, action: str, actor=None, subject=None, request=None, record=None, reason: str = "", details=None):
    return None
