"""Scopes: each endpoint names the one it needs (``required_scope`` on the view, docs/API.md)."""

from rest_framework.permissions import BasePermission

from referrals.api.problems import InsufficientScope
from referrals.models import ApiKey


class ScopeRequired(BasePermission):
    def has_permission(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            return False  # DRF answers 401 (with WWW-Authenticate): no key was given
        scope = view.required_scope
        if scope not in key.scopes:
            raise InsufficientScope(detail=f"This API key does not have the '{scope}' scope.")
        return True
