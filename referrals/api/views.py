"""The referral API's endpoints: thin DRF views over the agency side's selectors and services.

Every view is public to the middleware (``helpline_access``) because the API key, not a session,
is the way in (``ApiKeyAuthentication``); each names the scope it needs. The agency is always
the key's: a referral of another agency is a 404, from the lookup and again from the service.
Every call that came with a valid key is audited (``api.called``) after it was answered.
"""

import hashlib
import json

from django.core.cache import cache
from django.http import Http404
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from helpline.audit.services import audit_record_many
from referrals import actions
from referrals.api import serializers as s
from referrals.api.problems import IdempotencyKeyReused
from referrals.models import ApiKey, ApiScope, ReferralQuestion
from referrals.selectors import referral_for_agency, referral_shared_view, referral_to_share, referrals_of_agency
from referrals.services import agency_side
from referrals.services.api_keys import Answer, IdempotencyMismatch, api_idempotent_call

MAX_IDEMPOTENCY_KEY = 255
THROTTLED_AUDIT_SECONDS = 60


def via_of(key: ApiKey) -> str:
    return f"api:{key.prefix}"


def summary_of(referral) -> dict:
    """A referral instance as the list's row: the same columns, followed through its relations."""
    row = {}
    for column in s.SUMMARY_COLUMNS.values():
        value = referral
        for part in column.split("__"):
            value = getattr(value, part) if value is not None else None
        row[column] = value
    return row


class ApiView:
    """What every endpoint under /api/v1/ shares (mixed into DRF's views)."""

    helpline_access = "public"  # to the staff middleware: the API key is checked here instead
    required_scope = ApiScope.READ

    def check_permissions(self, request):
        # The rate limit comes before the scope check: a key refused a scope still spends its rate,
        # so a loop of refused calls cannot flood the audit trail (DRF checks permissions first).
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        if not vars(request).get("_throttle_counted"):
            request._throttle_counted = True
            super().check_throttles(request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        self.call_audit(request, response.status_code, kwargs, replayed=bool(response.get("Idempotent-Replayed")))
        return response

    def handle_exception(self, exc):
        try:
            return super().handle_exception(exc)
        except Exception:
            # A crash never reaches finalize_response: the call is audited here, then answered by handler500.
            self.call_audit(self.request, 500, self.kwargs)
            raise

    @staticmethod
    def call_audit(request, status: int, kwargs, *, replayed: bool = False) -> None:
        key = vars(request).get("_auth")
        if not isinstance(key, ApiKey):
            return
        if status == 429 and not cache.add(f"api-throttled-audited:{key.pk}", 1, THROTTLED_AUDIT_SECONDS):
            return  # a key over its rate is audited once a minute, not once a refused call
        details = {
            "agency": key.agency.code,
            "prefix": key.prefix,
            "method": request.method,
            "endpoint": request.resolver_match.url_name if request.resolver_match else "",
            "status": status,
        }
        for name in ("referral_id", "question_id"):
            if name in kwargs:
                details[name.removesuffix("_id")] = str(kwargs[name])
        if replayed:
            details["replayed"] = True
        # The reads the view made (referral_shared_view's audit_into) go in the same INSERT.
        pending = vars(request._request).pop("_audit_pending", [])
        call = {"action": actions.API_CALLED, "record": key, "request": request._request, "details": details}
        audit_record_many([*pending, call])

    # --- for the endpoints -------------------------------------------------------------------

    def agency(self):
        return self.request.auth.agency

    def referral(self, referral_id):
        referral = referral_for_agency(agency=self.agency(), referral_id=referral_id)
        if referral is None:
            raise Http404
        return referral

    def valid(self, serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class ReferralPages(CursorPagination):
    # Oldest change first, so that a client syncing with updated_since and the cursor sees every change.
    ordering = ("updated_at", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        # DRF filters on the position as given: a made-up one would reach the database (and come back
        # as a conflict quoting it). Ours always hold an updated_at; anything else is an invalid cursor.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:
                valid = False
            if not valid:
                raise NotFound(self.invalid_cursor_message)
        return cursor


@extend_schema(tags=["referrals"], parameters=[s.ReferralListQuerySerializer])
class ReferralList(ApiView, ListAPIView):
    """Referrals sent to your agency, in the order they last changed (oldest change first).

    Poll with `updated_since` (the `updated_at` of the last row you saw) and follow `next`."""

    serializer_class = s.ReferralSummarySerializer
    pagination_class = ReferralPages

    def get_queryset(self):
        referrals = referrals_of_agency(self.agency()).select_related(None).order_by()
        # The query serializer has only updated_since (other parameters are the cursor's or ignored):
        # without it there is nothing to validate, and a page is spared a serializer's work.
        if "updated_since" in self.request.query_params:
            query = s.ReferralListQuerySerializer(data=self.request.query_params)
            if not query.is_valid():
                raise ValidationError({"query": query.errors})
            if "updated_since" in query.validated_data:  # an empty one counts as not given
                referrals = referrals.filter(updated_at__gte=query.validated_data["updated_since"])
        return referrals.values(*s.SUMMARY_COLUMNS.values())


class ReferralDetail(ApiView, APIView):
    @extend_schema(tags=["referrals"], responses=s.ReferralSharedSerializer)
    def get(self, request, referral_id):
        """One referral: only what was shared with your agency, its steps and the questions (an audited read)."""
        view = self.shared(referral_id)
        view["referral"] = summary_of(view["referral"])
        return Response(s.ReferralSharedSerializer(view).data)

    def shared(self, referral_id) -> dict:
        # The read's audit event is written with the call's (call_audit), before the answer leaves,
        # on success and on a crash alike.
        # The referral read narrow, by SQL written once (referral_to_share): this is every fetch's lookup.
        referral = referral_to_share(agency=self.agency(), referral_id=referral_id)
        if referral is None:
            raise Http404
        return referral_shared_view(
            agency=self.agency(),
            referral=referral,
            actor=None,
            via=via_of(self.request.auth),
            audit_into=self.request._request.__dict__.setdefault("_audit_pending", []),
        )


class QuestionList(ReferralDetail):
    @extend_schema(tags=["questions"], responses=s.QuestionListSerializer)
    def get(self, request, referral_id):
        """The questions both sides asked on the referral, with their answers (an audited read)."""
        return Response(s.QuestionListSerializer({"questions": self.shared(referral_id)["questions"]}).data)


@extend_schema(tags=["referrals"])
class OutcomeKindList(ApiView, APIView):
    @extend_schema(responses=s.OutcomeKindSerializer(many=True))
    def get(self, request):
        """The progress updates and outcomes your agency can record (the `outcome` of POST …/updates/)."""
        return Response(s.OutcomeKindSerializer(agency_side.outcome_kinds_active(), many=True).data)


# --- writes ----------------------------------------------------------------------------------------


class Write(ApiView, APIView):
    """A POST: validated, run once per Idempotency-Key, answered with the referral after it."""

    input_serializer = None

    def post(self, request, referral_id, **kwargs):
        body = request.data  # parsed for every write, so that a body that is not JSON is refused (415)
        data = self.valid(self.input_serializer, body) if self.input_serializer else {}
        header = request.headers.get("Idempotency-Key")
        if header is None:
            answer = self.run(referral_id, data, **kwargs)
        else:
            if not 0 < len(header) <= MAX_IDEMPOTENCY_KEY or not header.isprintable() or not header.isascii():
                raise ValidationError({"Idempotency-Key": ["Send 1 to 255 printable ASCII characters."]})
            fingerprint = hashlib.sha256(
                json.dumps([request.method, request.path, body], sort_keys=True, default=str).encode()
            ).hexdigest()
            try:
                answer = api_idempotent_call(
                    api_key=request.auth,
                    key=header,
                    fingerprint=fingerprint,
                    call=lambda: self.run(referral_id, data, **kwargs),
                )
            except IdempotencyMismatch:
                raise IdempotencyKeyReused from None
        response = Response(answer.body, status=answer.status)
        if answer.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def run(self, referral_id, data, **kwargs) -> Answer:
        referral = self.referral(referral_id)
        result = self.perform(referral, data, agency=self.agency(), actor=None, via=via_of(self.request.auth), **kwargs)
        referral.refresh_from_db()
        body = {"referral": summary_of(referral)}
        if isinstance(result, ReferralQuestion):
            body["question"] = result.pk
        return Answer(200, s.WrittenSerializer(body).data)

    def perform(self, referral, data, **context):
        raise NotImplementedError


def documented(tag: str, summary: str):
    """The POST's entry in the schema: its summary, the body it takes, what it answers."""

    def decorate(view):
        schema = extend_schema(
            tags=[tag], summary=summary, request=view.input_serializer, responses=s.WrittenSerializer
        )
        return extend_schema_view(post=schema)(view)

    return decorate


@documented("referrals", "Acknowledge the referral (sent → acknowledged)")
class Acknowledge(Write):
    required_scope = ApiScope.ACKNOWLEDGE

    def perform(self, referral, data, **context):
        return agency_side.referral_acknowledge(referral=referral, **context)


@documented("referrals", "Accept the referral, with an optional note")
class Accept(Write):
    required_scope = ApiScope.ACKNOWLEDGE
    input_serializer = s.AcceptSerializer

    def perform(self, referral, data, **context):
        return agency_side.referral_accept(referral=referral, note=data["note"], **context)


@documented("referrals", "Decline the referral, saying why")
class Decline(Write):
    required_scope = ApiScope.ACKNOWLEDGE
    input_serializer = s.DeclineSerializer

    def perform(self, referral, data, **context):
        return agency_side.referral_decline(referral=referral, reason=data["reason"], **context)


@documented("referrals", "Record a progress update or an outcome (a final one closes it)")
class Update(Write):
    required_scope = ApiScope.UPDATE
    input_serializer = s.UpdateSerializer

    def perform(self, referral, data, **context):
        return agency_side.referral_update_record(
            referral=referral, outcome=data["outcome"], note=data["note"], **context
        )


@documented("questions", "Ask the helpline a question about the referral")
class Ask(QuestionList, Write):
    input_serializer = s.TextSerializer

    def get_permissions(self):
        # Reading the questions needs "read"; asking one "update".
        self.required_scope = ApiScope.READ if self.request.method == "GET" else ApiScope.UPDATE
        return super().get_permissions()

    def perform(self, referral, data, **context):
        return agency_side.referral_question_ask(referral=referral, text=data["text"], **context)


@documented("questions", "Answer a question the helpline asked")
class AnswerQuestion(Write):
    required_scope = ApiScope.UPDATE
    input_serializer = s.TextSerializer

    def perform(self, referral, data, *, question_id, **context):
        question = ReferralQuestion.objects.filter(pk=question_id, referral=referral).first()
        if question is None:
            raise Http404
        return agency_side.referral_question_answer(question=question, text=data["text"], **context)


# --- the schema and its docs: public, they hold no data -------------------------------------------


class Schema(SpectacularAPIView):
    helpline_access = "public"
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


class Docs(SpectacularSwaggerView):
    """Swagger UI from the sidecar's local copy, started by our own script (no inline code: strict CSP)."""

    helpline_access = "public"
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    template_name = "referrals/api_docs.html"
    url_name = "api:schema"
