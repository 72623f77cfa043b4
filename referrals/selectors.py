"""Reads of the referrals app that depend on who asks (filtered in SQL)."""

import functools
import json
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Approval, ApprovalStatus
from cases.selectors import case_is_visible, cases_visible_to
from cases.timeline import TimelineEntry
from helpline.access import role_of
from helpline.audit.services import audit_record
from helpline.models import Role, Staff
from helpline.rawsql import Columns, instance_of
from helpline.vault.models import DataKey
from helpline.vault.services import unseal
from helpline.vault.values import Shredded
from referrals import actions
from referrals.document import document_keys
from referrals.lifecycle import (
    AGENCY_OPEN,
    AT_AGENCY,
    AWAITING_ACKNOWLEDGEMENT,
    AWAITING_COMPLETION,
    QUESTIONS_OPEN,
    STATUS_LABELS,
    Status,
)
from referrals.models import (
    Agency,
    AgencyMembership,
    ApiKey,
    Notice,
    Offer,
    OfferStatus,
    OutcomeKind,
    Referral,
    ReferralEvent,
    ReferralQuestion,
    Side,
    Urgency,
)
from referrals.transports import TRANSPORT_VIA


def agency_of(user) -> Agency | None:
    """The agency an authority user works for, or None."""
    if user is None or not user.is_authenticated:
        return None
    membership = AgencyMembership.objects.filter(user=user).select_related("agency").first()
    return membership.agency if membership is not None and membership.agency.active else None


def agencies_search(*, need: str = "", language: str = "", region: str = "") -> QuerySet:
    """Active agencies that help with ``need`` (a taxonomy code: an agency serving a parent code
    or listing no needs fits), speak ``language`` (or list none), and cover ``region`` (or are national).
    National agencies come after regional ones."""
    agencies = Agency.objects.filter(active=True)
    if need:
        parts = need.split(".")
        ancestors = [".".join(parts[: index + 1]) for index in range(len(parts))]
        matches = Q(needs=[])
        for code in ancestors:
            matches |= Q(needs__has_item=code)
        agencies = agencies.filter(matches)
    if language:
        agencies = agencies.filter(Q(languages=[]) | Q(languages__has_item=language))
    if region:
        agencies = agencies.filter(Q(national=True) | Q(regions__has_item=region))
    return agencies.order_by("national", "name")


def agency_for_referral(*, kind: str, region: str | None) -> Agency | None:
    """The agency of ``kind`` covering ``region``, falling back to the national one of that kind."""
    agencies = Agency.objects.filter(active=True, kind=kind)
    if region:
        regional = agencies.filter(regions__has_item=region, national=False).order_by("name").first()
        if regional is not None:
            return regional
    return agencies.filter(national=True).order_by("name").first()


# --- referrals, for the people who may see them ----------------------------------------------


def referrals_for_case(user, case) -> QuerySet:
    """The referrals of a case the user may see (None when the case is not theirs to see)."""
    if not case_is_visible(user, case):
        return Referral.objects.none()
    return (
        Referral.objects.filter(case=case)
        .select_related("agency", "approval", "confirmed_by__user")
        .prefetch_related("events__actor__user")
        .order_by("created_at")
    )


def referral_for_write(user, referral_id) -> Referral | None:
    """A referral whose case the user may work on, or None (a 404 for the view)."""
    return (
        Referral.objects.filter(pk=referral_id, case__in=cases_visible_to(user))
        .select_related("case", "agency")
        .first()
    )


def referrals_of_agency(agency: Agency | None) -> QuerySet:
    """Every referral sent to ``agency`` (never a proposal, a queued, dismissed or failed one, nor one
    withdrawn before it was sent), newest first; nothing for no agency."""
    if agency is None:
        return Referral.objects.none()
    return (
        Referral.objects.filter(agency=agency, status__in=AT_AGENCY, sent_at__isnull=False)
        .select_related("case", "agency", "outcome_kind")
        .order_by("-sent_at", "-pk")
    )


def referrals_for_agency(user) -> QuerySet:
    """What an authority user's inbox lists: referrals sent to their agency only."""
    return referrals_of_agency(agency_of(user))


def overdue_q(now) -> Q:
    """A referral waiting on its agency past a deadline: not acknowledged in time, or not completed in time."""
    return Q(status__in=AWAITING_ACKNOWLEDGEMENT, acknowledge_by__lte=now) | Q(
        status__in=AWAITING_COMPLETION, complete_by__lte=now
    )


# The portal inbox's filters: what each shows of an agency's referrals.
INBOX_VIEWS = ("new", "overdue", "open", "closed", "all")
INBOX_PAGE_SIZE = 25


def _inbox_filters(now) -> dict[str, Q]:
    return {
        "new": Q(status=Status.SENT),
        "overdue": overdue_q(now),
        "open": Q(status__in=AGENCY_OPEN),
        "closed": ~Q(status__in=AGENCY_OPEN),
        "all": Q(),
    }


@dataclass(frozen=True)
class InboxPage:
    view: str
    counts: dict[str, int]
    rows: list
    number: int
    has_next: bool


def agency_inbox(agency: Agency | None, *, view: str = "open", page: int = 1) -> InboxPage:
    """One page of an agency's portal inbox: its referrals under one filter (``INBOX_VIEWS``), the count
    of every filter (one query), and the rows (one query): overdue first, then open before closed,
    the most urgent first, the most recently sent first. Plain columns only (no content is read)."""
    view = view if view in INBOX_VIEWS else "open"
    page = max(1, page)
    now = timezone.now()
    filters = _inbox_filters(now)
    referrals = referrals_of_agency(agency)
    counts = referrals.order_by().aggregate(**{name: Count("pk", filter=q) for name, q in filters.items()})
    rows = list(
        referrals.select_related(None)
        .select_related("case", "outcome_kind")
        .filter(filters[view])
        .annotate(
            overdue_rank=SqlCase(When(overdue_q(now), then=Value(0)), default=Value(1), output_field=IntegerField()),
            open_rank=SqlCase(
                When(status__in=AGENCY_OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            urgency_rank=SqlCase(
                When(urgency=Urgency.IMMEDIATE, then=Value(0)),
                When(urgency=Urgency.URGENT, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            questions_waiting=Count(
                "questions", filter=Q(questions__asked_by_side=Side.HELPLINE, questions__answered_at__isnull=True)
            ),
        )
        .order_by("overdue_rank", "open_rank", "urgency_rank", "-sent_at", "-pk")[
            (page - 1) * INBOX_PAGE_SIZE : page * INBOX_PAGE_SIZE + 1
        ]
    )
    for referral in rows:
        referral.overdue = referral.overdue_rank == 0
    return InboxPage(
        view=view,
        counts=counts,
        rows=rows[:INBOX_PAGE_SIZE],
        number=page,
        has_next=len(rows) > INBOX_PAGE_SIZE,
    )


def referral_for_agency(*, agency: Agency | None, referral_id) -> Referral | None:
    """One referral sent to ``agency``, or None (a 404: another agency's referral does not exist for it)."""
    try:
        # get(): one row by its primary key needs no ORDER BY (first() would sort by the list's order).
        return referrals_of_agency(agency).select_related("case__data_key").get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, ValidationError):
        return None


# What referral_to_share reads of a referral (the API's fetch): the list's columns, the document and
# what the shared view checks; of its case the reference and the data key.
_SHARED_REFERRAL_FIELDS = (
    "id", "case_id", "agency_id", "status", "urgency", "external_reference", "outcome_kind_id", "document",
    "sent_at", "acknowledged_at", "closed_at", "updated_at", "acknowledge_by", "complete_by",
)  # fmt: skip
_SHARED_CASE_FIELDS = ("id", "reference", "data_key_id")
_SHARED_OUTCOME_FIELDS = ("id", "code", "label")


@functools.cache
def _referral_to_share_sql(vendor: str) -> tuple[str, Columns, list[int]]:
    """referral_to_share's SQL, its columns, and where each model's columns end in its row, per database."""
    connection = connections[DEFAULT_DB_ALIAS]
    case_model = Referral.case.field.related_model
    parts = [
        ("r", Referral, _SHARED_REFERRAL_FIELDS),
        ("c", case_model, _SHARED_CASE_FIELDS),
        ("k", DataKey, None),
        ("o", OutcomeKind, _SHARED_OUTCOME_FIELDS),
    ]
    columns, ends = Columns(), []
    for alias, model, names in parts:
        columns.add(connection, alias, model, names)
        ends.append(len(columns.sql))
    statuses = ", ".join(["%s"] * len(AT_AGENCY))
    sql = (
        f"SELECT {columns.select()} FROM {Referral._meta.db_table} r "  # noqa: S608
        f"JOIN {case_model._meta.db_table} c ON c.id = r.case_id "
        f"JOIN {DataKey._meta.db_table} k ON k.id = c.data_key_id "
        f"LEFT JOIN {OutcomeKind._meta.db_table} o ON o.id = r.outcome_kind_id "
        f"WHERE r.id = %s AND r.agency_id = %s AND r.status IN ({statuses}) AND r.sent_at IS NOT NULL"
    )
    return sql, columns, ends


def referral_to_share(*, agency: Agency | None, referral_id) -> Referral | None:
    """``referral_for_agency`` for ``referral_shared_view`` only (the API's fetch): the same referral or None,
    by SQL written once per process, with only the columns the shared view and the list's row read
    (the rest deferred) and its case's reference and data key, its agency and outcome."""
    if agency is None:
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        referral_pk = Referral._meta.pk.to_python(referral_id)
    except ValidationError:
        return None
    sql, columns, ends = _referral_to_share_sql(connection.vendor)
    params = [Referral._meta.pk.get_db_prep_value(referral_pk, connection), agency.pk, *AT_AGENCY]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = columns.convert(connection, row)
    start, parts = 0, []
    for end in ends:
        parts.append({f.attname: value for f, value in zip(columns.fields[start:end], values[start:end], strict=True)})
        start = end
    referral_values, case_values, key_values, outcome_values = parts
    referral = instance_of(Referral, connection, referral_values)
    referral.case = instance_of(Referral.case.field.related_model, connection, case_values)
    referral.case.data_key = instance_of(DataKey, connection, key_values)
    referral.agency = agency
    referral.outcome_kind = (
        None if outcome_values["id"] is None else instance_of(OutcomeKind, connection, outcome_values)
    )
    return referral


@functools.cache
def _api_key_sql(vendor: str) -> tuple[str, Columns, int]:
    """api_key_by_prefix's SQL (every column of the key and of its agency), its columns, where the key's end."""
    connection = connections[DEFAULT_DB_ALIAS]
    columns = Columns().add(connection, "a", ApiKey)
    key_end = len(columns.sql)
    columns.add(connection, "g", Agency)
    sql = (
        f"SELECT {columns.select()} FROM {ApiKey._meta.db_table} a "  # noqa: S608
        f"JOIN {Agency._meta.db_table} g ON g.id = a.agency_id WHERE a.prefix = %s"
    )
    return sql, columns, key_end


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """The API key of ``prefix`` with its agency, as stored now (read at every call: a revocation holds at
    once), or None; by SQL written once per process, since every API call makes this read."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, columns, key_end = _api_key_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    values = columns.convert(connection, row)
    key = ApiKey.from_db(connection.alias, None, values[:key_end])
    key.agency = Agency.from_db(connection.alias, None, values[key_end:])
    return key


def _needing_attention(user):
    """A supervisor's overdue referrals (most overdue first) and undelivered ones (newest first), of their lines."""
    lines = Staff.objects.filter(user=user, role=Role.SUPERVISOR).values("lines")
    mine = Referral.objects.filter(case__line__in=lines).select_related("case", "agency")
    overdue = mine.filter(overdue_q(timezone.now())).order_by("acknowledge_by", "complete_by")
    return overdue, mine.filter(status=Status.FAILED).order_by("-updated_at")


def referrals_needing_attention(user) -> dict:
    """For a supervisor: overdue and failed referrals, and pending plan approvals, of their lines."""
    lines = Staff.objects.filter(user=user).values("lines")
    overdue, failed = _needing_attention(user)
    return {
        "overdue": list(overdue[:200]),
        "failed": list(failed[:200]),
        "approvals": list(
            Approval.objects.filter(case__line__in=lines, kind="referral_plan", status=ApprovalStatus.PENDING)
            .exclude(requested_by__user=user)
            .select_related("case", "requested_by__user")
            .order_by("requested_at")[:200]
        ),
    }


ALERTS_SHOWN = 50


def referral_alerts_for_supervisor(user) -> list[dict]:
    """The Alerts card's referral rows for a supervisor (helpline.alerts): overdue referrals of their
    lines, most overdue first, then undelivered ones, newest first; ``ALERTS_SHOWN`` at most."""
    overdue, failed = _needing_attention(user)
    rows = [{"referral": referral, "failed": False} for referral in overdue[:ALERTS_SHOWN]]
    if len(rows) < ALERTS_SHOWN:
        rows += [{"referral": referral, "failed": True} for referral in failed[: ALERTS_SHOWN - len(rows)]]
    return rows


def approval_for_decision(user, approval_id) -> Approval | None:
    """A pending referral-plan approval on a line the user supervises, or None."""
    lines = Staff.objects.filter(user=user, role="supervisor").values("lines")
    return (
        Approval.objects.filter(pk=approval_id, kind="referral_plan", case__line__in=lines)
        .select_related("case", "requested_by")
        .first()
    )


# --- the SOP's notices and offers (referrals.services.steps) ---------------------------------------

NOTICES_SHOWN = 50
STAFF_TARGETS = ("supervisors", "on_call")


def notices_for_supervisor(user) -> list[Notice]:
    """For the supervision page's Alerts (helpline.alerts): notices to staff on the supervisor's lines
    that nobody marked seen yet, oldest first. Only the case's reference, the rule and when."""
    if role_of(user) != Role.SUPERVISOR:
        return []
    lines = Staff.objects.filter(user=user).values("lines")
    staff_targets = Q(notify__has_item="supervisors") | Q(notify__has_item="on_call")
    return list(
        Notice.objects.filter(staff_targets, case__line__in=lines, seen_at__isnull=True)
        .select_related("case__line")
        .order_by("created_at")[:NOTICES_SHOWN]
    )


def notice_for_supervisor(user, notice_id) -> Notice | None:
    """A notice on a line the user supervises, or None (a 404)."""
    if role_of(user) != Role.SUPERVISOR:
        return None
    lines = Staff.objects.filter(user=user).values("lines")
    return Notice.objects.filter(pk=notice_id, case__line__in=lines).select_related("case").first()


def notices_for_case(user, case) -> list[Notice]:
    if not case_is_visible(user, case):
        return []
    return list(Notice.objects.filter(case=case).select_related("seen_by__user").order_by("created_at"))


def offers_for_case(user, case) -> list[Offer]:
    """The case's offers to the child, each with ``link_text``: the hand-off link the counsellor gives the
    child (unsealed for whoever may see the case; it names nobody, and never reaches a log or a URL)."""
    if not case_is_visible(user, case):
        return []
    offers = list(
        Offer.objects.filter(case=case)
        .exclude(status=OfferStatus.WITHDRAWN)
        .select_related("case__data_key", "agency", "link_by__user")
        .order_by("created_at")
    )
    for offer in offers:
        offer.link_text = _text(offer, "link") if offer.link_at else ""
    return offers


def offer_for_write(user, offer_id) -> Offer | None:
    return Offer.objects.filter(pk=offer_id, case__in=cases_visible_to(user)).select_related("case").first()


def steps_timeline(case) -> list[TimelineEntry]:
    """The case timeline's entries for the SOP's notices and offers (cases.timeline): who was told, and when
    a supervisor saw it; what was offered to the child, and when the link was made. No link, no reference."""
    url = reverse("referrals:plan", kwargs={"case_id": case.pk})

    def entry(at, title, detail, by=None):
        actor = by.user.get_username() if by is not None else ""
        return TimelineEntry(at=at, kind="referral", title=str(title), detail=detail, actor=actor, url=url)

    entries = []
    for notice in Notice.objects.filter(case=case).select_related("seen_by__user"):
        told = ", ".join(str(NOTIFY_LABELS.get(target, target)) for target in notice.notify)
        entries.append(entry(notice.created_at, _("SOP notice for %(who)s") % {"who": told}, notice.rule_id))
        if notice.seen_at:
            entries.append(entry(notice.seen_at, _("SOP notice seen by a supervisor"), notice.rule_id, notice.seen_by))
    for offer in Offer.objects.filter(case=case).select_related("link_by__user"):
        label = {"offer": OFFER_LABELS.get(offer.offer, offer.offer)}
        entries.append(
            entry(offer.created_at, _("Offer to the child proposed by the SOP: %(offer)s") % label, offer.rule_id)
        )
        if offer.link_at:
            title = _("Link for the child obtained: %(offer)s") % label
            entries.append(entry(offer.link_at, title, offer.age_range, offer.link_by))
    return entries


NOTIFY_LABELS = {
    "supervisors": _("the line's supervisors"),
    "on_call": _("the supervisor on call"),
    "caregiver": _("the child's caregiver"),
}
OFFER_LABELS = {"report_remove": _("Report Remove (IWF)")}


EVENT_TITLES = {
    "proposed": _("Referral proposed by the SOP"),
    "created_manually": _("Referral made by hand"),
    "edited": _("Referral proposal edited"),
    "dismissed": _("Referral proposal declined"),
    "confirmation": _("Referral confirmed by the counsellor"),
    "consent_recorded": _("Consent recorded"),
    "override_requested": _("Consent override asked"),
    "override_approved": _("Consent override approved"),
    "override_refused": _("Consent override refused"),
    "approval_refused": _("Referral plan refused"),
    "approved": _("Referral approved by a supervisor"),
    "confirmed": _("Referral queued for delivery"),
    "requeued": _("Referral queued again"),
    "sent": _("Referral delivered"),
    "delivery_retry": _("Delivery attempt failed; retrying"),
    "failed": _("Referral delivery failed"),
    "acknowledged": _("Referral acknowledged"),
    "accepted": _("Referral accepted"),
    "declined": _("Referral declined by the agency"),
    "closed": _("Referral closed"),
    "withdrawn": _("Referral withdrawn"),
    "update": _("Progress update from the agency"),
    "question_from_agency": _("Question from the agency"),
    "question_from_helpline": _("Question to the agency"),
    "answer_from_agency": _("Answer from the agency"),
    "answer_from_helpline": _("Answer to the agency"),
    "acknowledge_overdue": _("Acknowledgement overdue: supervisors alerted"),
    "complete_overdue": _("Completion overdue: supervisors alerted"),
}


def _event_title(event: ReferralEvent) -> str:
    title = str(EVENT_TITLES.get(event.kind, event.kind))
    return f"{title} ({event.outcome.label})" if event.outcome is not None else title


def referral_timeline(case) -> list[TimelineEntry]:
    """The case timeline's referral entries (cases.timeline): every proposal, decision and event, no notes.

    The case page shows them only to whoever may read the case."""
    events = (
        ReferralEvent.objects.filter(referral__case=case)
        .select_related("referral__agency", "actor__user", "outcome")
        .order_by("created_at")
    )
    url = reverse("referrals:plan", kwargs={"case_id": case.pk})
    return [
        TimelineEntry(
            at=event.created_at,
            kind="referral",
            title=f"{_event_title(event)}: {event.referral.agency.name}",
            detail=event.detail,
            actor=event.actor.user.get_username() if event.actor else "",
            url=url,
        )
        for event in events
    ]


# --- what the agency sees of a referral ---------------------------------------------------------

# The steps of a referral an agency sees (never the helpline's inner steps: proposals, consent, approvals).
AGENCY_EVENTS = {
    "sent",
    "acknowledged",
    "accepted",
    "declined",
    "closed",
    "withdrawn",
    "update",
    "question_from_agency",
    "question_from_helpline",
    "answer_from_agency",
    "answer_from_helpline",
}
# The steps whose note the agency wrote itself, so may read again.
AGENCY_NOTES = {"accepted", "declined", "closed", "update"}


def _text(instance, field: str) -> str:
    value = unseal(instance, field)
    return "" if isinstance(value, Shredded) else value


def _by(role: str | None, username: str | None, via: str) -> str:
    """Who did a step, as the agency may see it: its own colleague by name, the helpline as such
    (``role`` and ``username``: the staff member's, None for no staff member)."""
    if role == Role.AUTHORITY:
        return username
    if role is None and via.startswith(("api:", TRANSPORT_VIA)):
        return str(_("your agency's system"))
    return str(_("the helpline"))


# The columns of one step (an event or a question) in _steps' one query, in its order: the model
# field each is read as, an event's column, a question's column (None: NULL on that side).
_STEP_COLUMNS = (
    (ReferralEvent, "id", "e.id", "q.id"),
    (ReferralEvent, "created_at", "e.created_at", "q.asked_at"),
    (ReferralEvent, "kind", "e.kind", "q.asked_by_side"),
    (ReferralEvent, "via", "e.via", "q.asked_via"),
    (ReferralEvent, "note", "e.note", "q.text"),
    (ReferralQuestion, "answer", None, "q.answer"),
    (ReferralQuestion, "answered_at", None, "q.answered_at"),
    (ReferralQuestion, "answered_via", None, "q.answered_via"),
    (OutcomeKind, "id", "o.id", None),
    (OutcomeKind, "code", "o.code", None),
    (OutcomeKind, "label", "o.label", None),
    (Staff, "role", "s1.role", "s1.role"),
    (None, "username", "u1.{username}", "u1.{username}"),
    (Staff, "role", None, "s2.role"),
    (None, "username", None, "u2.{username}"),
)


@functools.cache
def _steps_sql(vendor: str) -> tuple[str, Columns]:
    """The events an agency sees and the questions of a referral in one query (events first, each side
    in its time order), with the names and roles of who did them; the SQL and its columns, per database."""
    connection = connections[DEFAULT_DB_ALIAS]
    user_model = Staff.user.field.related_model
    username = user_model._meta.get_field(user_model.USERNAME_FIELD)
    columns = Columns()
    for model, name, _event_sql, _question_sql in _STEP_COLUMNS:
        columns.column(connection, "x", username if model is None else model._meta.get_field(name))
    staff, users = Staff._meta.db_table, user_model._meta.db_table
    user_id = f'"{Staff._meta.get_field("user").column}"'

    def part(number: int, table: str, alias: str, people: list[tuple[str, str]], joins: str, where: str) -> str:
        chosen = [sql if number == 0 else question for _model, _name, sql, question in _STEP_COLUMNS]
        people_sql = "".join(
            f"LEFT JOIN {staff} s{i} ON s{i}.id = {alias}.{column} LEFT JOIN {users} u{i} ON u{i}.id = s{i}.{user_id} "
            for i, column in people
        )
        selected = ", ".join((sql or "NULL").format(username=f'"{username.column}"') for sql in chosen)
        return (
            f"SELECT {number} AS part, {selected} "  # noqa: S608
            f"FROM {table} {alias} {people_sql}{joins}WHERE {alias}.referral_id = %s {where}"
        )

    kinds = ", ".join(["%s"] * len(AGENCY_EVENTS))
    sql = (
        part(
            0,
            ReferralEvent._meta.db_table,
            "e",
            [("1", "actor_id")],
            f"LEFT JOIN {OutcomeKind._meta.db_table} o ON o.id = e.outcome_id ",
            f"AND e.kind IN ({kinds})",
        )
        + " UNION ALL "
        + part(1, ReferralQuestion._meta.db_table, "q", [("1", "asked_by_id"), ("2", "answered_by_id")], "", "")
        + " ORDER BY part, created_at"
    )
    return sql, columns


def _steps(referral: Referral) -> list[tuple]:
    """``referral``'s steps its agency sees and its questions, by one query: (event, None) or (None, question),
    each an instance holding what the shared view reads (its sealed texts open under the referral's key)."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, columns = _steps_sql(connection.vendor)
    referral_id = Referral._meta.pk.get_db_prep_value(referral.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [referral_id, *sorted(AGENCY_EVENTS), referral_id])
        rows = cursor.fetchall()
    steps = []
    for part, *row in rows:
        (
            pk,
            at,
            kind,
            via,
            sealed,
            answer,
            answered_at,
            answered_via,
            outcome_id,
            code,
            label,
            role,
            name,
            answered_role,
            answered_name,
        ) = columns.convert(connection, row)
        if part == 0:
            event = instance_of(
                ReferralEvent,
                connection,
                {"id": pk, "referral_id": referral.pk, "kind": kind, "note": sealed, "via": via, "created_at": at},
            )
            event.referral = referral
            event.outcome = (
                None
                if outcome_id is None
                else instance_of(OutcomeKind, connection, {"id": outcome_id, "code": code, "label": label})
            )
            event.actor_role, event.actor_name = role, name
            steps.append((event, None))
        else:
            values = {
                "id": pk,
                "referral_id": referral.pk,
                "asked_by_side": kind,
                "asked_via": via,
                "asked_at": at,
                "text": sealed,
                "answer": answer,
                "answered_via": answered_via,
                "answered_at": answered_at,
            }
            question = instance_of(ReferralQuestion, connection, values)
            question.referral = referral
            question.asked_role, question.asked_name = role, name
            question.answered_role, question.answered_name = answered_role, answered_name
            steps.append((None, question))
    return steps


def _relations_loaded(referral: Referral) -> bool:
    """Whether ``referral`` came with what the shared view reads (as ``referral_for_agency`` gives it)."""
    return (
        Referral.case.is_cached(referral)
        and Referral.agency.is_cached(referral)
        and Referral.outcome_kind.is_cached(referral)
        and type(referral.case).data_key.is_cached(referral.case)
    )


def referral_shared_view(
    *, agency: Agency, referral: Referral, actor, via: str, audit_into: list[dict] | None = None
) -> dict:
    """What ``agency`` sees of ``referral``: the document exactly as it was sent (unsealed), its steps,
    the questions and answers of both sides, and the progress updates and outcomes. Nothing else of
    the case. The read is audited as a read of case content (the fields shared, ``via``): at once, or,
    given ``audit_into``, appended to it as ``audit_record`` arguments for the caller to write with its
    own event before the answer leaves (the API writes it with ``api.called``: one INSERT, not two).

    ``actor`` is the authority user (or None for the agency's system through the API); a referral
    of another agency, or a user of another agency, is refused with PermissionDenied."""
    if actor is not None:
        mine = agency_of(actor)
        if role_of(actor) != Role.AUTHORITY or mine is None or mine.pk != agency.pk:
            raise PermissionDenied
    if referral.agency_id != agency.pk or referral.status not in AT_AGENCY or referral.sent_at is None:
        raise PermissionDenied
    if not _relations_loaded(referral):
        referral = Referral.objects.select_related("case__data_key", "agency", "outcome_kind").get(pk=referral.pk)
    # Withdrawn: the agency keeps the referral's story (its steps, what it wrote itself) but no longer
    # what the helpline shared in it, as a revoked referral in Primero leaves the receiver without the record.
    withdrawn = referral.status == Status.WITHDRAWN
    text = None if withdrawn else unseal(referral, "document")
    shredded = isinstance(text, Shredded)
    document = json.loads(text) if text and not shredded else None
    events, questions = [], []
    for event, question in _steps(referral):
        if event is not None:
            events.append(
                {
                    "at": event.created_at,
                    "kind": event.kind,
                    "title": _event_title(event),
                    "by": _by(event.actor_role, event.actor_name, event.via),
                    "via": event.via,
                    "note": _text(event, "note") if event.kind in AGENCY_NOTES else "",
                    "outcome": event.outcome,
                }
            )
            continue
        answered = question.answered_at is not None
        helpline_asked = question.asked_by_side == Side.HELPLINE
        # Once withdrawn, only what the agency wrote itself: its own questions, its answers to the helpline's.
        text_shown = not (withdrawn and helpline_asked)
        answer_shown = answered and not (withdrawn and not helpline_asked)
        questions.append(
            {
                "question": question,
                "id": question.pk,
                "side": question.asked_by_side,
                "text": _text(question, "text") if text_shown else "",
                "asked_at": question.asked_at,
                "asked_by": _by(question.asked_role, question.asked_name, question.asked_via),
                "answer": _text(question, "answer") if answer_shown else "",
                "answered_at": question.answered_at,
                "answered_by": _by(question.answered_role, question.answered_name, question.answered_via)
                if answered
                else "",
                "agency_may_answer": helpline_asked and not answered,
            }
        )
    read = {
        "action": actions.REFERRAL_SHARED_READ,
        "actor": actor,
        "record": referral,
        "details": {"agency": agency.code, "via": via, "fields": sorted(document_keys(document)) if document else []},
    }
    if audit_into is None:
        audit_record(**read)
    else:
        audit_into.append(read)
    return {
        "referral": referral,
        "document": document,
        "shredded": shredded,
        "withdrawn": withdrawn,
        "events": events,
        "questions": questions,
        "outcomes": [event for event in events if event["outcome"] is not None],
    }


# --- the agencies' questions, for the helpline ------------------------------------------------

# Who answers for the helpline: the case's counsellor while they still work on its line.
HELPLINE_ROLES = (Role.COUNSELLOR, Role.SUPERVISOR)


def _owner_present(case_prefix: str) -> Exists:
    """The case's counsellor is still there to answer: an active account, a console role, on the case's line."""
    return Exists(
        Staff.objects.filter(
            pk=OuterRef(f"{case_prefix}counsellor_id"),
            user__is_active=True,
            role__in=HELPLINE_ROLES,
            lines=OuterRef(f"{case_prefix}line_id"),
        )
    )


def agency_questions_for_helpline(user) -> QuerySet[ReferralQuestion]:
    """Questions the agencies asked on referrals of the cases ``user`` may see (answered ones too), oldest first."""
    if role_of(user) not in HELPLINE_ROLES:
        return ReferralQuestion.objects.none()
    return (
        ReferralQuestion.objects.filter(asked_by_side=Side.AGENCY, referral__case__in=cases_visible_to(user))
        .select_related("referral__agency", "referral__case__line", "referral__case__counsellor__user")
        .order_by("asked_at", "pk")
    )


def agency_questions_waiting(user, *, team: bool = False) -> QuerySet[ReferralQuestion]:
    """The agencies' unanswered questions on referrals still open to questions, that wait for ``user``:
    on cases they are the counsellor of; for a supervisor also those of their lines' cases whose
    counsellor is gone (none, deactivated, off the line). ``team``: a supervisor's lines' all, each
    with ``owner_present`` (whether its case's counsellor is there to answer)."""
    questions = (
        agency_questions_for_helpline(user)
        .filter(answered_at__isnull=True, referral__status__in=QUESTIONS_OPEN)
        .annotate(owner_present=_owner_present("referral__case__"))
    )
    role = role_of(user)
    if role not in HELPLINE_ROLES:
        return questions.none()
    staff = user.staff
    lines = Q(referral__case__line__in=staff.lines.all())
    if team:
        return questions.filter(lines) if role == Role.SUPERVISOR else questions.none()
    mine = Q(referral__case__counsellor_id=staff.pk, owner_present=True)
    if role == Role.SUPERVISOR:
        mine |= lines & Q(owner_present=False)
    return questions.filter(mine)


def agency_question_recipients(referral: Referral) -> list[int]:
    """Whom an agency's question on ``referral`` waits for (staff ids): the case's counsellor while they are
    there to answer, else every active supervisor of the case's line."""
    case = referral.case
    owner = Staff.objects.filter(
        pk=case.counsellor_id, user__is_active=True, role__in=HELPLINE_ROLES, lines=case.line_id
    ).values_list("pk", flat=True)
    if case.counsellor_id is not None and owner.exists():
        return [case.counsellor_id]
    supervisors = Staff.objects.filter(role=Role.SUPERVISOR, lines=case.line_id, user__is_active=True)
    return sorted(supervisors.values_list("pk", flat=True))


def agency_question_read(*, user, question: ReferralQuestion) -> dict:
    """One agency question for the helpline, unsealed and audited (``referral.question_read``): its text,
    its answer if there is one, whether it can still be answered. ``question`` comes from
    ``agency_questions_for_helpline(user)``; anything else is PermissionDenied."""
    if not agency_questions_for_helpline(user).filter(pk=question.pk).exists():
        raise PermissionDenied
    referral = question.referral
    answered = question.answered_at is not None
    audit_record(
        action=actions.REFERRAL_QUESTION_READ,
        actor=user,
        record=referral,
        details={"agency": referral.agency.code, "question": str(question.pk), "case": referral.case_id},
    )
    return {
        "question": question,
        "referral": referral,
        "case": referral.case,
        "agency": referral.agency,
        "text": _text(question, "text"),
        "asked_at": question.asked_at,
        "asked_by": question.asked_by.user.get_username() if question.asked_by else "",
        "answer": _text(question, "answer") if answered else "",
        "answered_at": question.answered_at,
        "answerable": not answered and referral.status in QUESTIONS_OPEN,
        "status_label": STATUS_LABELS.get(referral.status, referral.status),
    }
