"""Settling from Covage's CSV export, the documented record of every session and line.

Called for every export stored (by reconciliation.tasks), before differences are listed:
1. Covage's states are applied to every session and line the portal knows (Covage is the
   source of truth for them), with their termination errors and an event per change.
2. Sessions waiting on an export (``settle_after`` set, see orders.services.lookups) whose
   wait this export answers are settled:
   - a session whose creating POST had an unknown outcome is linked to the Covage session
     carrying its external id, or, when the export has none, marked free to be sent again;
   - the same for each line whose creating POST had an unknown outcome;
   - a confirmation with an unknown outcome is recorded when Covage's session left
     ``created``, or marked free to be sent again when it did not;
   then their work is queued again.
An export answers a wait only when it was started after the moment the wait names: a
snapshot taken earlier could miss a request still in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from covage import schemas
from covage.export_csv import ExportRow
from orders import dispatch
from orders.models import OrderLine, OrderSession, SyncStatus
from orders.services.confirm import store_confirmed, store_items
from orders.services.events import record
from orders.services.lookups import in_flight_window
from orders.services.sync import discard_remote_line, offer_differs
from orders.wire import apply_remote_line, remote_session_values, store_history

logger = logging.getLogger(__name__)


@dataclass
class AppliedState:
    """A state Covage holds that the portal did not: applied, and reported."""

    session: OrderSession
    line: OrderLine | None
    before: str
    after: str


@dataclass
class _RemoteSession:
    session: dict[str, str]
    lines: list[dict[str, object]] = field(default_factory=list)

    def to_schema(self) -> schemas.OrderSession:
        return schemas.OrderSession.from_wire(
            {**self.session, "product_order_item": list(self.lines)}
        )


def _collect(
    rows: Iterable[ExportRow], *, known: set[str], wanted_external_ids: set[str]
) -> tuple[dict[str, _RemoteSession], dict[str, str]]:
    """The export's sessions that the portal knows (by Covage id), and the Covage ids of the
    sessions carrying an external id the portal waits for. Only those are kept in memory."""
    remote: dict[str, _RemoteSession] = {}
    by_external_id: dict[str, str] = {}
    for row in rows:
        covage_id = row.session_id
        if not covage_id:
            continue
        if covage_id not in known and row.session_external_id in wanted_external_ids:
            by_external_id.setdefault(row.session_external_id, covage_id)
            known.add(covage_id)
        if covage_id not in known:
            continue
        entry = remote.setdefault(covage_id, _RemoteSession(session=row.session_wire()))
        if row.line_id:
            entry.lines.append(row.line_wire())
    return remote, by_external_id


def settle_from_export(
    *, rows: Iterable[ExportRow], export_started_at: datetime
) -> list[AppliedState]:
    waiting = list(
        OrderSession.objects.filter(
            settle_after__isnull=False, settle_after__lte=export_started_at
        ).order_by("pk")
    )
    unlinked = {session.external_id: session for session in waiting if not session.covage_id}
    known = set(OrderSession.objects.exclude(covage_id="").values_list("covage_id", flat=True))
    remote, found = _collect(rows, known=known, wanted_external_ids=set(unlinked))

    for external_id, session in unlinked.items():
        _settle_session_create(session, found.get(external_id), remote)

    applied: list[AppliedState] = []
    # A snapshot older than the portal's last read of a session would turn its states back.
    sessions = (
        OrderSession.objects.filter(covage_id__in=list(remote))
        .filter(Q(remote_read_at__isnull=True) | Q(remote_read_at__lt=export_started_at))
        .order_by("pk")
    )
    for session in sessions.iterator(chunk_size=500):
        applied += _apply_states(session, remote[session.covage_id])
    sessions.update(remote_read_at=export_started_at)

    for session in waiting:
        session.refresh_from_db()
        _settle_waiting(session, remote.get(session.covage_id), export_started_at)
    return applied


def _settle_session_create(
    session: OrderSession, covage_id: str | None, remote: dict[str, _RemoteSession]
) -> None:
    if covage_id is None:
        # Not at Covage: the POST was never processed. The next sync sends it again.
        OrderSession.objects.filter(pk=session.pk, covage_id="").update(create_attempted_at=None)
        record(session=session, action="session_not_at_covage", actor="sync")
        return
    if OrderSession.objects.filter(covage_id=covage_id).exclude(pk=session.pk).exists():
        logger.warning("export session %s is linked to another portal session", covage_id)
        return
    values = remote_session_values(remote[covage_id].to_schema())
    OrderSession.objects.filter(pk=session.pk, covage_id="").update(**values)
    record(
        session=session,
        action="session_found_in_export",
        message=covage_id,
        actor="sync",
    )


def _apply_states(session: OrderSession, remote: _RemoteSession) -> list[AppliedState]:
    """Covage's states onto the session and its known lines; returns what changed."""
    applied: list[AppliedState] = []
    schema = remote.to_schema()
    lines_state = dict(session.lines.exclude(covage_id="").values_list("covage_id", "remote_state"))
    if schema.state and schema.state != session.remote_state:
        before = session.remote_state
        OrderSession.objects.filter(pk=session.pk).update(**remote_session_values(schema))
        session.refresh_from_db()
        record(
            session=session,
            action="session_state",
            message=f"{before or '—'} → {schema.state}",
            actor="sync",
        )
        applied.append(AppliedState(session, None, before, schema.state))
    # Only items that bring a state or errors: the rest would rewrite nothing useful.
    items = [
        item
        for item in schema.items
        if item.id in lines_state
        and item.state
        and (item.state != lines_state[item.id] or item.termination_error)
    ]
    for line, before in store_items(session, items, actor="sync"):
        applied.append(AppliedState(session, line, before, line.remote_state))
    return applied


def _settle_waiting(
    session: OrderSession, remote: _RemoteSession | None, export_started_at: datetime
) -> None:
    if session.covage_id and remote is not None:
        _settle_line_creates(session, remote, export_started_at)
    if session.confirm_attempted_at and not session.confirmed_at:
        state = remote.session.get("state", "") if remote else ""
        if remote is not None and state and state != schemas.SESSION_CREATED:
            store_confirmed(session, remote.to_schema())
            enqueue = dispatch.enqueue_poll
        else:
            # Still "created" (or not there): the confirmation never reached Covage.
            OrderSession.objects.filter(pk=session.pk).update(confirm_attempted_at=None)
            record(session=session, action="confirmation_not_at_covage", actor="sync")
            enqueue = dispatch.enqueue_confirmation
    elif session.confirmed_at:
        enqueue = dispatch.enqueue_poll
    elif session.sync_status == SyncStatus.CONFIRMING:
        enqueue = dispatch.enqueue_confirmation
    else:
        enqueue = dispatch.enqueue_sync
    OrderSession.objects.filter(pk=session.pk).update(settle_after=None)
    enqueue(session.pk)


def _settle_line_creates(
    session: OrderSession, remote: _RemoteSession, export_started_at: datetime
) -> None:
    cutoff = export_started_at - in_flight_window()
    pending = session.lines.filter(
        covage_id="", deleted_at__isnull=True, create_attempted_at__lte=cutoff
    )
    taken = set(session.lines.exclude(covage_id="").values_list("covage_id", flat=True))
    for line in pending:
        match = next(
            (
                item
                for item in remote.lines
                if item.get("external_id") == line.external_id and item.get("id") not in taken
            ),
            None,
        )
        if match is None:
            OrderLine.objects.filter(pk=line.pk, covage_id="").update(create_attempted_at=None)
            record(
                session=session,
                line=line,
                action="line_not_at_covage",
                message=gettext_noop("Line %(position)s"),
                message_params={"position": line.position},
                actor="sync",
            )
            continue
        item = schemas.OrderLine.from_wire(match)
        taken.add(item.id)
        if offer_differs(line, item):
            # Covage holds the lost attempt's offer, which PATCH cannot change: delete that
            # line at Covage and create this one anew (never keep a wrong offer silently).
            discard_remote_line(session, item.id)
            OrderLine.objects.filter(pk=line.pk, covage_id="").update(create_attempted_at=None)
            continue
        with transaction.atomic():
            locked = OrderLine.objects.select_for_update().get(pk=line.pk)
            fields = apply_remote_line(locked, item)
            # Covage holds the version of the lost attempt, not necessarily the current one:
            # the next sync sends the current one on top (synced_version is left as it is).
            locked.save_without_historical_record(update_fields=fields)
            store_history(locked, item)
        record(
            session=session,
            line=locked,
            action="line_found_in_export",
            message=gettext_noop("Line %(position)s"),
            message_params={"position": locked.position},
            actor="sync",
        )
