"""The OpenAPI schema's parts that drf-spectacular cannot infer: the API-key security scheme,
the problem responses every operation can give, and the ``Idempotency-Key`` header of writes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from referrals.api.problems import MEDIA_TYPE


class ProblemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text="JSON Pointer to the field in the request body, or #/query/<name>.")
    detail = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="A URI naming the kind of problem (about:blank or urn:helpline:problem:…).")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    errors = ProblemErrorSerializer(many=True, required=False, help_text="Validation errors, one per field.")

    class Meta:
        ref_name = "Problem"


RETRY_AFTER = OpenApiParameter(
    "Retry-After", int, location=OpenApiParameter.HEADER, response=[429], description="Seconds to wait."
)
PROBLEMS_EVERY = {
    "401": "No API key, or an unknown, expired or revoked one.",
    "403": "The API key lacks the scope this operation needs.",
    "404": "No such referral for this agency.",
    "406": "The Accept header asks for something other than JSON.",
    "429": "Too many requests for this API key; see Retry-After.",
    "500": "A fault on the server.",
}
PROBLEMS_WRITE = {
    "400": "A field is not valid (see errors).",
    "409": "The referral's state does not allow this (for example accepting a closed referral).",
    "415": "The body is not JSON.",
    "422": "The Idempotency-Key was used before with a different request.",
}
PROBLEMS_LIST = {"400": "A query parameter is not valid (see errors)."}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string up to 255 characters. The same key with the same request within 24 hours "
        "returns the first answer again (with Idempotent-Replayed: true) and changes nothing; "
        "with a different request it is refused (422)."
    ),
)


class ApiAutoSchema(AutoSchema):
    """Adds the problem responses to every operation under /api/v1/."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        extra = dict(PROBLEMS_EVERY)
        if self.method == "POST":
            extra.update(PROBLEMS_WRITE)
        elif self._is_list_view():
            extra.update(PROBLEMS_LIST)
        for code, description in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ProblemSerializer, description=description), code, [MEDIA_TYPE], direction
                )
        return responses

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        return [*parameters, RETRY_AFTER]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "referrals.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hlk_<prefix>_<secret>",
            "description": "An agency's API key, made by an administrator (docs/API.md).",
        }
