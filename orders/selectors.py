"""Read queries for order sessions and lines: who may see what, with everything a page shows
fetched in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import functools

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from covage import schemas
from orders.models import LineContact, OrderEvent, OrderLine, OrderSession, SyncStatus
from portal.roles import is_back_office

# Who asks: LoginRequiredMiddleware keeps anonymous requests out, but a selector answers them
# with nothing rather than fail.
Viewer = User | AnonymousUser

# Covage states after which a session can no longer change (see the session lifecycle).

# The session states Covage documents, offered as list filters (other values still show).
SESSION_REMOTE_STATES = ("created", "in_progress", "completed", "partial", "rejected")


def visible_sessions(user: Viewer) -> QuerySet[OrderSession]:
    """The sessions `user` may see: their own; every one for the back office."""
    return _visible_to(user, OrderSession.objects.all())


def _visible_to(user: Viewer, sessions: QuerySet[OrderSession]) -> QuerySet[OrderSession]:
    if is_back_office(user):
        return sessions
    if not user.is_authenticated:
        return sessions.none()
    return sessions.filter(owner=user)


# What the sessions list shows of each session (templates/orders/partials/session_results.html).
LIST_COLUMNS = (
    "owner",
    "external_id",
    "covage_id",
    "project_id",
    "remote_state",
    "sync_status",
    "created_at",
)


def sessions_for(
    user: Viewer,
    *,
    search: str = "",
    remote_state: str = "",
    sync_status: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[OrderSession]:
    """The sessions `user` may see, newest first, with the columns the list shows (LIST_COLUMNS)
    and their `line_count` and `failed_line_count` (live lines only).

    `search` matches, case-insensitively and with accents as typed, the session's external id
    and Covage id, and its lines' end customer names (line or contact), temporary and order
    references and external ids. Line matches go through a subquery, so a session matching on
    several lines is listed once and its counts stay right.
    """
    # The columns the list shows (the owner's is the back office's alone): a page reads no more.
    sessions = _visible_to(user, _sessions_with_line_counts()).only(*LIST_COLUMNS)
    if is_back_office(user):
        sessions = sessions.select_related("owner")
    search = search.strip()
    if search:
        matching_lines = OrderLine.objects.filter(
            _contains("end_customer_name", search)
            | _contains("temporary_reference", search)
            | _contains("order_reference", search)
            | _contains("external_id", search)
            | Q(
                Exists(
                    LineContact.objects.filter(
                        _contains("end_customer_name", search), line=OuterRef("pk")
                    )
                )
            ),
            session=OuterRef("pk"),
            deleted_at__isnull=True,
        )
        sessions = sessions.filter(
            _contains("external_id", search)
            | _contains("covage_id", search)
            | Q(Exists(matching_lines))
        )
    if remote_state:
        sessions = sessions.filter(remote_state=remote_state)
    if sync_status:
        sessions = sessions.filter(sync_status=sync_status)
    if date_from:
        sessions = sessions.filter(created_at__date__gte=date_from)
    if date_to:
        sessions = sessions.filter(created_at__date__lte=date_to)
    return sessions.order_by("-created_at", "-pk")


@functools.cache
def _sessions_with_line_counts() -> QuerySet[OrderSession]:
    """Every session with its line counts, by correlated subqueries: only the rows a page
    reads are counted, and the paginator's COUNT leaves them out (Django drops annotations a
    count does not need).

    Built once and never evaluated itself (each list filters a copy). The subqueries are SQL
    written once from the models' tables and columns: Django's ORM compiled its own two on
    every request, which cost the most visited page more in Python than PostgreSQL took to
    run them (the sessions list under load, issue 13).
    """
    return OrderSession.objects.annotate(
        line_count=_live_line_count(),
        failed_line_count=_live_line_count(sync_status=SyncStatus.SYNC_FAILED),
    )


def _live_line_count(sync_status: str | None = None) -> RawSQL:
    """`SELECT COUNT(*)` of a session's live lines (with this sync status, if given), for an
    annotation of OrderSession (whose table the outer query names without an alias).

    Nothing a user typed goes into the text: the names come from the models, the status is a
    parameter."""
    quote = connection.ops.quote_name
    lines = quote(OrderLine._meta.db_table)

    def line_column(name: str) -> str:
        field = OrderLine._meta.get_field(name)
        return f"{lines}.{quote(field.column)}"  # type: ignore[union-attr, arg-type]

    sessions_pk = f"{quote(OrderSession._meta.db_table)}.{quote(OrderSession._meta.pk.column)}"
    conditions = [
        f"{line_column('session')} = {sessions_pk}",
        f"{line_column('deleted_at')} IS NULL",
    ]
    params: tuple[str, ...] = ()
    if sync_status is not None:
        conditions.append(f"{line_column('sync_status')} = %s")
        params = (sync_status,)
    sql = f"SELECT COUNT(*) FROM {lines} WHERE {' AND '.join(conditions)}"  # noqa: S608
    return RawSQL(sql, params, output_field=IntegerField())  # noqa: S611


def _contains(field_name: str, text: str) -> Q:
    """Case-insensitive `contains`, accents as typed.

    PostgreSQL folds the case of every letter; SQLite's LIKE only folds ASCII, so that "ça"
    would miss "Ça". There the usual spellings of the text are tried as well (lower, upper,
    capitalised, title case), which covers how names are written in practice.
    """
    condition = Q(**{f"{field_name}__icontains": text})
    if connection.vendor == "sqlite" and not text.isascii():
        for variant in {text.lower(), text.upper(), text.capitalize(), text.title()} - {text}:
            condition |= Q(**{f"{field_name}__icontains": variant})
    return condition


def session_for(user: Viewer, pk: int) -> OrderSession:
    """One session the user may see, or Http404: another user's session looks like none."""
    return get_object_or_404(visible_sessions(user).select_related("owner"), pk=pk)


def line_for(user: Viewer, session_pk: int, line_pk: int) -> OrderLine:
    """One live line of a session the user may see, with its session and contacts, or Http404."""
    sessions = visible_sessions(user)
    lines = (
        OrderLine.objects.filter(session__in=sessions, deleted_at__isnull=True)
        .select_related("session", "session__owner")
        .prefetch_related("contacts")
    )
    return get_object_or_404(lines, pk=line_pk, session_id=session_pk)


def live_lines(session: OrderSession) -> list[OrderLine]:
    """The session's lines that were not deleted, in position order, with everything the
    session page and the confirmation check read prefetched."""
    return list(
        session.lines.filter(deleted_at__isnull=True)
        .order_by("position", "pk")
        .prefetch_related(
            Prefetch("contacts", queryset=LineContact.objects.order_by("position")),
            "state_changes",
            "termination_errors",
            "production_steps",
        )
    )


def session_events(session: OrderSession, *, limit: int = 50) -> list[OrderEvent]:
    return list(
        session.events.select_related("user", "line").order_by("-created_at", "-pk")[:limit]
    )


def first_contact(line: OrderLine) -> LineContact | None:
    """Contact entry 0 of a line whose contacts were prefetched (no query then)."""
    contacts = sorted(line.contacts.all(), key=lambda contact: contact.position)
    return contacts[0] if contacts else None


def is_locked(session: OrderSession) -> bool:
    """Lines are read-only once the session is being confirmed or Covage has taken it over."""
    return session.is_locked


def line_customer(line: OrderLine) -> str:
    """The end customer a line is for, from the line or else its first contact."""
    contact = first_contact(line)
    return line.end_customer_name or (contact.end_customer_name if contact else "")


def has_syncing_lines(lines: list[OrderLine]) -> bool:
    return any(line.sync_status == SyncStatus.SYNCING for line in lines)


def has_rejected_lines(lines: list[OrderLine]) -> bool:
    return any(line.remote_state == schemas.LINE_REJECTED_CREATION for line in lines)


def external_id_taken(external_id: str) -> bool:
    return OrderSession.objects.filter(external_id__iexact=external_id.strip()).exists()


# A line is decided once Covage said whether its order was created (the document's lifecycle);
# `in_progress` counts as decided only after the session is final or with an order reference.
DECIDED_LINE_STATES = schemas.LINE_ORDER_CREATED_STATES | schemas.LINE_FAILED_STATES


def is_line_decided(line: OrderLine, session: OrderSession) -> bool:
    return (
        line.remote_state in DECIDED_LINE_STATES
        or bool(line.order_reference)
        or session.remote_state in schemas.SESSION_FINAL_STATES
    )


def confirmation_progress(session: OrderSession, lines: list[OrderLine]) -> tuple[int, int]:
    """(lines decided by Covage, all lines) of a session sent for confirmation."""
    return sum(1 for line in lines if is_line_decided(line, session)), len(lines)


def is_following_covage(session: OrderSession) -> bool:
    """True while the page should keep asking for news: confirming, or Covage still deciding."""
    if session.sync_status == SyncStatus.CONFIRMING:
        return True
    return bool(session.confirmed_at) and session.remote_state not in schemas.SESSION_FINAL_STATES


def polls_made(session_id: int) -> int:
    """How many times the portal has read the session back from Covage (0 once it is gone):
    the poll task spaces and bounds its polls with it."""
    made = OrderSession.objects.filter(pk=session_id).values_list("poll_count", flat=True).first()
    return made or 0
