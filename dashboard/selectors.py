"""Read queries of the home dashboard and the list of lines across sessions.

Every count of the page comes from one aggregate query per table (conditional counts), the
charts from one grouped query each; nothing grows with the number of lines but the rows the
database reads.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from covage import schemas
from dashboard import queues
from orders import explain
from orders.models import (
    LineContact,
    LineStateChange,
    LineTerminationError,
    OrderLine,
    OrderSession,
    ProductionStep,
)
from orders.selectors import visible_sessions
from portal.roles import is_back_office

Viewer = User | AnonymousUser

# How many weeks the "confirmed per week" chart shows, and how many reasons are named.
CHART_WEEKS = 12
TOP_REASONS = 5
# Lead times are read from the most recent orders only: enough for a distribution.
LEAD_TIME_SAMPLE = 2000


def visible_lines(user: Viewer) -> QuerySet[OrderLine]:
    """The live lines of the sessions `user` may see."""
    lines = OrderLine.objects.filter(deleted_at__isnull=True)
    if is_back_office(user):
        return lines
    if not user.is_authenticated:
        return lines.none()
    return lines.filter(session__owner=user)


# --- Counts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    sessions: dict[str, int]
    lines: dict[str, int]


def counts(user: Viewer, *, now: dt.datetime | None = None) -> Counts:
    """Every count of the dashboard: one query over sessions, one over lines."""
    session_counts = visible_sessions(user).aggregate(
        **{name: Count("pk", filter=queues.session_queue(name)) for name in queues.SESSION_QUEUES}
    )
    line_counts = visible_lines(user).aggregate(
        **{
            name: Count("pk", filter=queues.line_queue(name, now=now))
            for name in queues.LINE_QUEUES
        }
    )
    return Counts(
        sessions={name: int(value or 0) for name, value in session_counts.items()},
        lines={name: int(value or 0) for name, value in line_counts.items()},
    )


@dataclass(frozen=True)
class Reason:
    code: str
    property_path: str
    text: str
    count: int


def rejection_reasons(user: Viewer, *, limit: int = TOP_REASONS) -> list[Reason]:
    """The commonest reasons Covage gave for rejecting the user's lines, in words."""
    rows = (
        LineTerminationError.objects.filter(
            line__in=visible_lines(user).filter(remote_state=schemas.LINE_REJECTED_CREATION)
        )
        .values("code", "property_path")
        .annotate(count=Count("line", distinct=True))
        .order_by("-count", "code", "property_path")[:limit]
    )
    reasons = []
    for row in rows:
        error = LineTerminationError(code=row["code"], property_path=row["property_path"])
        reasons.append(
            Reason(row["code"], row["property_path"], explain.explain(error).message, row["count"])
        )
    return reasons


def reconciliation_open_count() -> int:
    from reconciliation.models import Difference

    return Difference.objects.filter(status=Difference.Status.OPEN).count()


# --- Charts ---------------------------------------------------------------------------------

# The final states a confirmed line ends in, as the weekly chart groups them.
OUTCOME_CREATED = "created"
OUTCOME_REJECTED = "rejected"
OUTCOME_PENDING = "pending"
OUTCOMES = (OUTCOME_CREATED, OUTCOME_REJECTED, OUTCOME_PENDING)


def outcome_of(remote_state: str) -> str:
    if remote_state in schemas.LINE_ORDER_CREATED_STATES:
        return OUTCOME_CREATED
    if remote_state in schemas.LINE_FAILED_STATES:
        return OUTCOME_REJECTED
    return OUTCOME_PENDING


@dataclass
class WeekBar:
    week: dt.date
    values: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.values.values())


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def confirmed_per_week(
    user: Viewer, *, weeks: int = CHART_WEEKS, now: dt.datetime | None = None
) -> list[WeekBar]:
    """Lines of sessions confirmed at Covage over the last `weeks` weeks, per week (Monday)
    of confirmation and by outcome. One grouped query, per local day and state (at most a
    few hundred rows), summed into weeks here: the same on SQLite and PostgreSQL, whose
    week truncations differ."""
    today = timezone.localdate(now or timezone.now())
    first = week_start(today) - dt.timedelta(weeks=weeks - 1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    rows = (
        visible_lines(user)
        .filter(session__confirmed_at__gte=since)
        .annotate(day=TruncDate("session__confirmed_at"))
        .values_list("day", "remote_state")
        .annotate(count=Count("pk"))
        .order_by()
    )
    bars = {
        first + dt.timedelta(weeks=i): WeekBar(first + dt.timedelta(weeks=i)) for i in range(weeks)
    }
    for each in bars.values():
        each.values = dict.fromkeys(OUTCOMES, 0)
    for day, remote_state, count in rows:
        bar = bars.get(week_start(day))
        if bar is not None:
            bar.values[outcome_of(remote_state)] += count
    return list(bars.values())


@dataclass(frozen=True)
class Bucket:
    label: str
    low_days: int
    high_days: int | None
    count: int


# Lead-time buckets, in days: [low, high).
LEAD_TIME_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (0, 1),
    (1, 2),
    (2, 7),
    (7, 14),
    (14, 30),
    (30, 60),
    (60, 90),
    (90, None),
)


def bucket_durations(durations: list[dt.timedelta]) -> list[Bucket]:
    counter: Counter[int] = Counter()
    for duration in durations:
        days = max(duration.total_seconds(), 0) / 86400
        for index, (low, high) in enumerate(LEAD_TIME_BUCKETS):
            if days >= low and (high is None or days < high):
                counter[index] += 1
                break
    buckets = []
    for index, (low, high) in enumerate(LEAD_TIME_BUCKETS):
        if high is None:
            label = gettext("%(low)s+ d") % {"low": low}
        else:
            label = gettext("%(low)s\u2013%(high)s d") % {"low": low, "high": high}
        buckets.append(Bucket(label, low, high, counter[index]))
    return buckets


@dataclass(frozen=True)
class LeadTime:
    buckets: list[Bucket]
    count: int
    median_days: float | None


def _lead_time(pairs: list[tuple[Any, Any]]) -> LeadTime:
    durations = sorted(end - start for start, end in pairs if start and end and end >= start)
    median = None
    if durations:
        middle = durations[len(durations) // 2]
        median = round(middle.total_seconds() / 86400, 1)
    return LeadTime(bucket_durations(durations), len(durations), median)


def lead_time_to_acknowledged(user: Viewer) -> LeadTime:
    """From the session's confirmation at Covage to the line's `acknowledged` state."""
    pairs = list(
        LineStateChange.objects.filter(
            state=schemas.LINE_ACKNOWLEDGED,
            line__in=visible_lines(user),
            line__session__confirmed_at__isnull=False,
        )
        .order_by("-change_date")
        .values_list("line__session__confirmed_at", "change_date")[:LEAD_TIME_SAMPLE]
    )
    return _lead_time(pairs)


def lead_time_to_active(user: Viewer) -> LeadTime:
    """From Covage's order date to delivery (`active`)."""
    pairs = list(
        visible_lines(user)
        .filter(tracking_state__in=list(queues.DELIVERED_STATES), delivered_at__isnull=False)
        .exclude(order_date__isnull=True)
        .order_by("-delivered_at")
        .values_list("order_date", "delivered_at")[:LEAD_TIME_SAMPLE]
    )
    return _lead_time(pairs)


# --- Lines across sessions ------------------------------------------------------------------

SORTS = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "customer": ("customer", "pk"),
    "-customer": ("-customer", "-pk"),
    "city": ("city", "pk"),
    "state": ("remote_state", "pk"),
    "-order_date": ("-order_date", "-pk"),
    "order_date": ("order_date", "pk"),
    "order_reference": ("order_reference", "pk"),
}
DEFAULT_SORT = "-created"


def _first_contact(field_name: str) -> Subquery:
    return Subquery(
        LineContact.objects.filter(line=OuterRef("pk")).order_by("position").values(field_name)[:1]
    )


def lines_for(
    user: Viewer, filters: dict[str, Any], *, now: dt.datetime | None = None
) -> QuerySet[OrderLine]:
    """The user's live lines matching `filters` (the cleaned data of dashboard.forms.LineFilter),
    each with `customer` and `city` (the line's, or its first contact's), its session and
    its production steps."""
    lines = visible_lines(user).select_related("session", "session__owner")
    lines = lines.annotate(
        customer=Coalesce(
            NullIf("end_customer_name", Value("")), _first_contact("end_customer_name")
        ),
        city=_first_contact("city"),
    )
    search = (filters.get("q") or "").strip()
    if search:
        in_contacts = LineContact.objects.filter(line=OuterRef("pk")).filter(
            Q(end_customer_name__icontains=search) | Q(city__icontains=search)
        )
        lines = lines.filter(
            Q(end_customer_name__icontains=search)
            | Q(order_reference__icontains=search)
            | Q(temporary_reference__icontains=search)
            | Q(external_id__icontains=search)
            | Q(session__external_id__icontains=search)
            | Q(Exists(in_contacts))
        )
    queue = filters.get("queue") or ""
    if queue in queues.LINE_QUEUES:
        lines = lines.filter(queues.line_queue(queue, now=now))
    elif queue in queues.SESSION_QUEUES:
        lines = lines.filter(session__in=visible_sessions(user).filter(queues.session_queue(queue)))
    if filters.get("state"):
        lines = lines.filter(Q(remote_state=filters["state"]) | Q(tracking_state=filters["state"]))
    if filters.get("offer"):
        offer = filters["offer"].strip()
        lines = lines.filter(
            Q(offer_family__iexact=offer)
            | Q(offer_technology__iexact=offer)
            | Q(product_offering_id=offer)
        )
    if filters.get("customer"):
        customer = filters["customer"].strip()
        lines = lines.filter(
            Q(end_customer_name__icontains=customer)
            | Q(
                Exists(
                    LineContact.objects.filter(
                        line=OuterRef("pk"), end_customer_name__icontains=customer
                    )
                )
            )
        )
    if filters.get("city"):
        lines = lines.filter(
            Exists(
                LineContact.objects.filter(
                    line=OuterRef("pk"), city__icontains=filters["city"].strip()
                )
            )
        )
    if filters.get("order_reference"):
        lines = lines.filter(order_reference__icontains=filters["order_reference"].strip())
    if filters.get("created_from"):
        lines = lines.filter(created_at__date__gte=filters["created_from"])
    if filters.get("created_to"):
        lines = lines.filter(created_at__date__lte=filters["created_to"])
    if filters.get("ordered_from"):
        lines = lines.filter(order_date__date__gte=filters["ordered_from"])
    if filters.get("ordered_to"):
        lines = lines.filter(order_date__date__lte=filters["ordered_to"])
    sort = filters.get("sort") or DEFAULT_SORT
    return lines.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def with_steps(lines: QuerySet[OrderLine]) -> QuerySet[OrderLine]:
    """Lines with their production steps prefetched (one query per page)."""
    return lines.prefetch_related(
        Prefetch("production_steps", queryset=ProductionStep.objects.order_by("date", "pk"))
    )


def sessions_for_queue(user: Viewer, queue: str) -> QuerySet[OrderSession]:
    sessions = visible_sessions(user).select_related("owner")
    if queue in queues.SESSION_QUEUES:
        sessions = sessions.filter(queues.session_queue(queue))
    live = Q(lines__deleted_at__isnull=True)
    return sessions.annotate(line_count=Count("lines", filter=live)).order_by("-created_at", "-pk")
