"""What the referral API reads and writes, field by field (the OpenAPI schema is built from these)."""

from datetime import UTC, datetime
from uuid import UUID

from django.utils import timezone
from rest_framework import serializers

from referrals.lifecycle import STATUS_LABELS
from referrals.models import Urgency
from referrals.services.agency_side import MAX_QUESTION_LENGTH, outcome_kinds_active
from referrals.services.events import MAX_REASON_LENGTH

# The plain columns a list row carries (no protected content: ids, codes, timestamps).
SUMMARY_COLUMNS = {
    "id": "id",
    "status": "status",
    "urgency": "urgency",
    "case_reference": "case__reference",
    "agency_reference": "external_reference",
    "outcome": "outcome_kind__code",
    "sent_at": "sent_at",
    "acknowledged_at": "acknowledged_at",
    "closed_at": "closed_at",
    "updated_at": "updated_at",
    "acknowledge_by": "acknowledge_by",
    "complete_by": "complete_by",
}


class ReferralSummarySerializer(serializers.Serializer):
    """One referral as the list shows it: plain fields only. Reads a row of ``.values(*SUMMARY_COLUMNS.values())``."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=list(STATUS_LABELS))
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    case_reference = serializers.CharField(source="case__reference", help_text="The helpline's case reference.")
    agency_reference = serializers.CharField(
        source="external_reference", allow_blank=True, help_text="Your own reference, if one was recorded."
    )
    outcome = serializers.CharField(
        source="outcome_kind__code", allow_null=True, help_text="The final outcome's code, once closed."
    )
    sent_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    acknowledge_by = serializers.DateTimeField(allow_null=True, help_text="When acknowledgement is due.")
    complete_by = serializers.DateTimeField(allow_null=True, help_text="When the referral should be completed.")

    def to_representation(self, row):
        # The fields above describe the row (and the schema); writing it out needs only this. Measured
        # (bench/api.py): the fields' own to_representation was most of a list page's time in Python.
        return {name: _plain(row[column]) for name, column in SUMMARY_COLUMNS.items()}


def _plain(value):
    """A column's value as JSON, the way DRF's fields write it (UTC times end in Z)."""
    if isinstance(value, datetime):
        text = timezone.localtime(value, UTC).isoformat()
        return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
    if isinstance(value, UUID):
        return str(value)
    return value


class ReferralListQuerySerializer(serializers.Serializer):
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only referrals changed at or after this time (ISO 8601, with a time zone)."
    )


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    title = serializers.CharField()
    by = serializers.CharField(help_text="Your colleague's user name, 'your agency's system', or 'the helpline'.")
    via = serializers.CharField(allow_blank=True, help_text='"portal", "api:<key prefix>", or empty.')
    note = serializers.CharField(allow_blank=True, help_text="Only on the steps whose note your agency wrote.")
    outcome = serializers.CharField(source="outcome.code", allow_null=True, help_text="The update's or outcome's code.")


class QuestionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    side = serializers.ChoiceField(choices=["agency", "helpline"], help_text="Who asked.")
    text = serializers.CharField()
    asked_at = serializers.DateTimeField()
    asked_by = serializers.CharField()
    answer = serializers.CharField(allow_blank=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    answered_by = serializers.CharField(allow_blank=True)
    agency_may_answer = serializers.BooleanField(help_text="A question of the helpline, not answered yet.")


class ReferralSharedSerializer(serializers.Serializer):
    """One referral as its agency may see it: the document as sent, its steps, the questions."""

    referral = ReferralSummarySerializer(help_text="The plain fields, as in the list.")
    document = serializers.JSONField(
        allow_null=True,
        help_text="The referral document exactly as sent, cut to your agency's fields "
        "(docs/referral-document.schema.json); null once the helpline withdrew the referral, "
        "or once the case was destroyed at the end of its retention.",
    )
    shredded = serializers.BooleanField(help_text="The case was destroyed: the document and notes are gone.")
    withdrawn = serializers.BooleanField(
        help_text="The helpline withdrew the referral: stop acting on it. The document, the helpline's "
        "questions and its answers to yours are no longer given (empty); what your agency wrote stays."
    )
    events = EventSerializer(many=True)
    questions = QuestionSerializer(many=True)


class QuestionListSerializer(serializers.Serializer):
    questions = QuestionSerializer(many=True)


class OutcomeKindSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    final = serializers.BooleanField(help_text="Recording it closes the referral (from accepted or declined).")


# --- writes ------------------------------------------------------------------------------------------


class AcceptSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_REASON_LENGTH, default="")


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH, help_text="Why your agency declines it (required).")


class UpdateSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=40, help_text="A code from GET /api/v1/outcome-kinds/.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_REASON_LENGTH, default="")

    def validate_outcome(self, value):
        if not outcome_kinds_active().filter(code=value).exists():
            raise serializers.ValidationError("Not a code of GET /api/v1/outcome-kinds/.")
        return value


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_QUESTION_LENGTH)


class WrittenSerializer(serializers.Serializer):
    """What a write answers: the referral's plain fields after it, and the question or event it made."""

    referral = ReferralSummarySerializer()
    question = serializers.UUIDField(required=False, help_text="The question asked or answered.")
