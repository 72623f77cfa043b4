"""One error format for everything under /api/: RFC 9457 problem details (application/problem+json).

``exception_handler`` is Django REST framework's (settings.REST_FRAMEWORK) and covers what a view
raises; ``bad_request``, ``forbidden``, ``not_found`` and ``server_error`` are Django's handlers
(config.urls) and cover what never reached a view (an unknown path, a crash). Off /api/ they
hand over to Django's own pages.

A problem says what class of error it is (``type``, ``title``, ``status``) and, in ``detail``,
what went wrong in words written here: never the request's content, a stack trace, or whether
another agency's referral exists (that is a plain 404). Validation errors add ``errors``: one
``{"pointer", "detail", "code"}`` per field, the pointer a JSON Pointer into the request body
(``#/note``; ``#`` for the whole body; ``#/query/<name>`` for a query parameter,
``#/Idempotency-Key`` for that header).
"""

import json
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions

MEDIA_TYPE = "application/problem+json"
PREFIX = "urn:helpline:problem:"

# The problem types a client may branch on (docs/API.md); anything else is "about:blank",
# whose title is the HTTP status phrase.
VALIDATION = PREFIX + "validation"
UNAUTHENTICATED = PREFIX + "unauthenticated"
INSUFFICIENT_SCOPE = PREFIX + "insufficient-scope"
REFERRAL_STATE = PREFIX + "referral-state"
IDEMPOTENCY_KEY_REUSED = PREFIX + "idempotency-key-reused"
RATE_LIMITED = PREFIX + "rate-limited"

TITLES = {
    VALIDATION: "The request is not valid",
    UNAUTHENTICATED: "A valid API key is needed",
    INSUFFICIENT_SCOPE: "The API key lacks the scope this needs",
    REFERRAL_STATE: "The referral cannot do that now",
    IDEMPOTENCY_KEY_REUSED: "The Idempotency-Key was used for another request",
    RATE_LIMITED: "Too many requests",
}


class InsufficientScope(exceptions.PermissionDenied):
    problem_type = INSUFFICIENT_SCOPE


class IdempotencyKeyReused(exceptions.APIException):
    status_code = 422
    default_detail = "This Idempotency-Key was sent before with a different request; use a new key."
    problem_type = IDEMPOTENCY_KEY_REUSED


class ReferralStateConflict(exceptions.APIException):
    status_code = 409
    problem_type = REFERRAL_STATE


def problem(status: int, *, type: str = "about:blank", detail: str = "", errors=None, headers=None) -> HttpResponse:
    phrase = HTTPStatus(status).phrase
    body = {"type": type, "title": TITLES.get(type, phrase), "status": status}
    if detail:
        body["detail"] = str(detail)
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _errors(detail, pointer: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of JSON Pointers and messages."""
    if isinstance(detail, dict):
        return [item for key, value in detail.items() for item in _errors(value, _join(pointer, key))]
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [
                {"pointer": "#" + pointer, "detail": str(item), "code": getattr(item, "code", "invalid")}
                for item in detail
            ]
        return [item for index, value in enumerate(detail) for item in _errors(value, _join(pointer, str(index)))]
    return [{"pointer": "#" + pointer, "detail": str(detail), "code": getattr(detail, "code", "invalid")}]


def _join(pointer: str, key: str) -> str:
    if key == "non_field_errors":
        return pointer
    return f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"


def exception_handler(exc, context):
    """DRF's exception handler: every error a view raises, as a problem."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        # A service refusing another agency's referral: the same answer as one that does not exist.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoValidationError):
        exc = ReferralStateConflict(detail=" ".join(exc.messages))
    if not isinstance(exc, exceptions.APIException):
        return None  # a crash: Django's handler500 below answers it
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled):
        headers["Retry-After"] = str(max(1, int(exc.wait or 1)))
        return problem(429, type=RATE_LIMITED, detail=_rate_detail(exc), headers=headers)
    if isinstance(exc, exceptions.ValidationError):
        return problem(
            400,
            type=VALIDATION,
            detail="One or more fields are not valid; see errors.",
            errors=_errors(exc.detail),
            headers=headers,
        )
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        kind = UNAUTHENTICATED if exc.status_code == 401 else "about:blank"
        return problem(exc.status_code, type=kind, detail=str(exc.detail), headers=headers)
    kind = getattr(exc, "problem_type", "about:blank")
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return problem(exc.status_code, type=kind, detail=detail, headers=headers)


def _rate_detail(exc) -> str:
    return f"This API key sent too many requests; wait {max(1, int(exc.wait or 1))} seconds (Retry-After)."


# --- Django's handlers (config.urls), for what never reached a view ------------------------------


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return problem(400, detail=_("The request could not be understood."))
    return defaults.bad_request(request, exception)


def forbidden(request, exception):
    if _is_api(request):
        return problem(403)
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return problem(404, detail=_("There is nothing at this address."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return problem(500, detail=_("Something went wrong on our side; it has been logged."))
    return defaults.server_error(request)
