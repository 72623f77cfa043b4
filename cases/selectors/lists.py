"""The case list: filters, search by reference, keyset pages; every row permission-filtered in SQL.

Selectors only: nothing here unseals (the list shows codes, statuses and dates, never
content), so listing is not a content read and is not audited. The rows are always
``cases.selectors.cases_visible_to(user)`` narrowed further, never widened.

    filters = CaseFilters.from_query(request.GET)
    page = case_list_page(user, filters=filters, cursor=request.GET.get("after"))

One query for the rows whatever the page (keyset pagination, cases.pagination), so page
500 costs what page 1 costs.
"""

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cases.models import Case, CaseStatus
from cases.models.choices import RiskLevel
from cases.overdue import overdue_condition
from cases.pagination import Page, keyset_page
from cases.references import reference_normalise
from cases.selectors.access import cases_visible_to

ORDER = ("-created_at", "-id")
PAGE_SIZE = 50


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""
    risk: str = ""
    category: str = ""  # a taxonomy code: the code itself and its descendants
    counsellor: int | None = None
    line: int | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    overdue: bool = False
    reference: str = ""  # normalised, or "" when none was given
    reference_given: bool = False

    @classmethod
    def from_query(cls, query) -> "CaseFilters":
        """Read filters from a query string, ignoring values that do not parse (never an error page)."""
        raw_reference = (query.get("q") or "").strip()
        return cls(
            status=_choice(query.get("status"), CaseStatus.values),
            risk=_choice(query.get("risk"), RiskLevel.values),
            category=_code(query.get("category")),
            counsellor=_integer(query.get("counsellor")),
            line=_integer(query.get("line")),
            opened_from=_date(query.get("from")),
            opened_to=_date(query.get("to")),
            overdue=query.get("overdue") in ("1", "on", "true"),
            reference=(reference_normalise(raw_reference) or "") if raw_reference else "",
            reference_given=bool(raw_reference),
        )

    def as_query(self) -> dict[str, str]:
        """The filters as query-string values (for the next page's link)."""
        names = {"opened_from": "from", "opened_to": "to", "reference": "q"}
        values = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "reference_given" or value in ("", None, False):
                continue
            values[names.get(item.name, item.name)] = "1" if value is True else str(value)
        return values

    @property
    def any(self) -> bool:
        return bool(self.as_query()) or self.reference_given


def _choice(value, allowed) -> str:
    return value if value in allowed else ""


def _integer(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _code(value) -> str:
    value = (value or "").strip()
    return value if value and len(value) <= 120 and all(part.isidentifier() for part in value.split(".")) else ""


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def category_condition(code: str) -> RawSQL:
    """Cases classified under ``code`` or one of its descendants (``code.…``), in SQL on either backend."""
    if connection.vendor == "postgresql":
        sql = (
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text(cases_case.categories) AS c(code)"
            " WHERE c.code = %s OR c.code LIKE %s)"
        )
    else:
        sql = (
            "EXISTS (SELECT 1 FROM json_each(cases_case.categories) AS c"
            " WHERE c.value = %s OR c.value LIKE %s ESCAPE '\\')"
        )
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # The SQL is constant; the code only ever travels as a bound parameter.
    return RawSQL(sql, [code, f"{escaped}.%"], output_field=BooleanField())  # noqa: S611


def cases_filtered(user, filters: CaseFilters, *, now=None) -> QuerySet[Case]:
    """The cases ``user`` may see that match ``filters`` (unordered)."""
    queryset = cases_visible_to(user)
    if filters.reference_given:
        # A reference that does not parse matches nothing rather than everything.
        return queryset.filter(reference=filters.reference) if filters.reference else queryset.none()
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.risk:
        queryset = queryset.filter(risk_level=filters.risk)
    if filters.counsellor:
        queryset = queryset.filter(counsellor_id=filters.counsellor)
    if filters.line:
        queryset = queryset.filter(line_id=filters.line)
    if filters.opened_from:
        queryset = queryset.filter(created_at__gte=_day_start(filters.opened_from))
    if filters.opened_to:
        queryset = queryset.filter(created_at__lt=_day_start(filters.opened_to + timedelta(days=1)))
    if filters.category:
        queryset = queryset.filter(category_condition(filters.category))
    if filters.overdue:
        queryset = queryset.filter(overdue_condition(now or timezone.now()))
    return queryset


class CaseRow(NamedTuple):
    """One row of the case list: exactly what the page shows, no model instance."""

    id: int
    reference: str
    status: str
    risk_level: str
    created_at: datetime
    line_name: str
    counsellor_name: str | None

    @property
    def pk(self) -> int:
        return self.id

    @property
    def status_label(self) -> str:
        return _STATUS_LABELS.get(self.status, self.status)

    @property
    def risk_label(self) -> str:
        return _RISK_LABELS.get(self.risk_level, self.risk_level)


_STATUS_LABELS = dict(CaseStatus.choices)
_RISK_LABELS = dict(RiskLevel.choices)

# What a row shows and nothing else: the line's and the counsellor's names are joined in as
# plain columns (a line's JSON settings or a user's profile would cost more to decode than the
# whole query), and rows are tuples, not model instances.
LIST_COLUMNS = ("id", "reference", "status", "risk_level", "created_at", "line__name", "counsellor__user__username")


def case_list_page(user, *, filters: CaseFilters, cursor: str | None = None, size: int | None = None) -> Page:
    """One page of the case list, newest first: one query whatever the page; items are ``CaseRow``."""
    queryset = cases_filtered(user, filters).values_list(*LIST_COLUMNS)
    return keyset_page(queryset, order=ORDER, cursor=cursor, size=size or PAGE_SIZE, make=CaseRow._make)
