"""Confirming a session at Covage exactly once, then following it to its final state.

`request_confirmation` (a person's click) only checks and records the request, in the same
transaction as the status change, and queues the work (orders.dispatch.enqueue_confirmation);
`run_confirmation` (the task) pushes pending changes and sends the one PATCH /confirm/;
`poll_session` follows the session until Covage says it is completed, partial or rejected.
Both raise the portal's RemoteUnavailable or RemoteRefused, never Covage's errors.

Exactly once: before sending, the attempt is written down. A task that finds an attempt
already written (a worker died, the answer was lost, a re-delivered message) reads the
session back from Covage and only sends again if it is still `created`. Reading a session
back is not documented: where Covage does not serve it, the session waits for a CSV export,
which settles the outcome and the states (orders.services.settle).
"""

from __future__ import annotations

import enum
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from covage import schemas
from covage.client import CovageClient, get_client
from covage.errors import CovageError, CovageRateLimited, CovageValidationError
from orders import dispatch
from orders.confirmation import Problem, check_session
from orders.events import LINES_COPIED_FROM, LINES_REFUSED
from orders.models import OrderEvent, OrderLine, OrderSession, SyncStatus
from orders.services import lookups
from orders.services.drafts import copy_line_into, create_session, queue_sync
from orders.services.errors import OrderError
from orders.services.events import record, record_all
from orders.services.remote import TRANSIENT_ERRORS, in_portal_terms, refusal_text
from orders.services.sync import (
    SyncResult,
    attempt_may_be_in_flight,
    is_pending,
    push_session,
)
from orders.steps import split_property_path, step_for_field
from orders.wire import (
    MIRRORED_FIELDS,
    apply_remote_line,
    remote_session_values,
    store_histories,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# A poll is due at least this often (the longest backoff); later, the sweeper resumes it.
POLL_DUE = timedelta(seconds=60)


class ConfirmStep(enum.Enum):
    POLL = "poll"  # confirmed at Covage: follow the session
    RETRY = "retry"  # try the confirmation again shortly
    ABORTED = "aborted"  # stopped: the user must act (the reason is in the session's events)
    WAITING = "waiting"  # an unknown outcome waits for an export (the export re-queues it)
    GONE = "gone"  # the session was deleted meanwhile: nothing to do


def covage_problems(session: OrderSession, lines: list[OrderLine]) -> list[Problem]:
    """Field errors Covage returned for the current version of a line."""
    problems = []
    for line in lines:
        if not line.remote_errors or line.rejected_version != line.version:
            continue
        for path, messages in line.remote_errors.items():
            field, index = split_property_path(path)
            text = "; ".join(messages) if isinstance(messages, list) else str(messages)
            problems.append(
                Problem(
                    line,
                    field or "note",
                    step_for_field(field, contact_index=index),
                    _("Covage refused it: %(reason)s") % {"reason": text},
                    index,
                )
            )
    return problems


def request_confirmation(*, user: User, session: OrderSession) -> list[Problem]:
    """Check every line; if all is well, mark the session confirming and queue the work.

    Two clicks or two tabs queue one confirmation: the second finds it already requested.
    """
    with transaction.atomic():
        session = OrderSession.objects.select_for_update().get(pk=session.pk)
        if session.confirm_requested_at:
            return []
        lines = list(session.lines.filter(deleted_at__isnull=True).prefetch_related("contacts"))
        problems = check_session(session, lines) + covage_problems(session, lines)
        if problems:
            return problems
        session.sync_status = SyncStatus.CONFIRMING
        session.confirm_requested_at = timezone.now()
        session.last_sync_error = ""
        session.save()
        record(session=session, user=user, action="confirmation_requested")
        dispatch.enqueue_confirmation(session.pk)
    return []


def _abort(
    session: OrderSession,
    message: str,
    *,
    detail: str = "",
    detail_params: dict[str, object] | None = None,
) -> ConfirmStep:
    """Stop the confirmation and say why: `message` (an English msgid without placeholders)
    is the session's last error; the event tells `detail` with its parameters, if given."""
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.SYNC_FAILED,
        confirm_requested_at=None,
        last_sync_error=message,
    )
    record(
        session=session,
        action="confirmation_stopped",
        message=detail or message,
        message_params=detail_params if detail else None,
        actor="task",
    )
    return ConfirmStep.ABORTED


REFUSED_LINES = gettext_noop("Covage refused some of the lines: fix them and confirm again.")
CONFIRMATION_REFUSED = gettext_noop(
    "Covage refused the confirmation. Check the lines' errors, correct them and confirm again."
)


@in_portal_terms
def run_confirmation(*, session_id: int, client: CovageClient | None = None) -> ConfirmStep:
    session = OrderSession.objects.filter(pk=session_id).first()
    if session is None:
        return ConfirmStep.GONE
    if session.confirmed_at:
        return ConfirmStep.POLL
    if not session.confirm_requested_at:
        return ConfirmStep.ABORTED  # cancelled meanwhile (an aborted earlier run)
    if session.settle_after:
        return ConfirmStep.WAITING
    client = client or get_client()

    synced, pushed = push_session(session_id=session_id, client=client)
    if synced is SyncResult.BUSY or pushed is None:
        return ConfirmStep.RETRY
    if synced is SyncResult.WAITING:
        return ConfirmStep.WAITING
    session = pushed  # as the push read it under its lease, with what it wrote
    lines = list(
        session.lines.filter(deleted_at__isnull=True)
        # session_id too: the related manager sets each line's session from it.
        .only(
            "session_id", "position", "version", "synced_version", "rejected_version", "deleted_at"
        )
        .order_by("position", "pk")
    )
    refused = [line for line in lines if line.rejected_version == line.version]
    if refused:
        positions = ", ".join(str(line.position) for line in refused)
        return _abort(
            session,
            REFUSED_LINES,
            detail=LINES_REFUSED,
            detail_params={"positions": positions, "count": len(refused)},
        )
    if any(is_pending(line) for line in lines) or not session.covage_id:
        return ConfirmStep.RETRY

    if session.confirm_attempted_at:
        if attempt_may_be_in_flight(session.confirm_attempted_at):
            return ConfirmStep.RETRY
        # An earlier attempt may have reached Covage: look before sending again.
        try:
            remote = lookups.read_session(client, session.covage_id)
        except lookups.LookupUnavailable:
            lookups.wait_for_export(
                session, after=session.confirm_attempted_at + lookups.in_flight_window()
            )
            record(
                session=session,
                action="waiting_for_export",
                message=gettext_noop(
                    "Did Covage receive the confirmation? Its next export will tell."
                ),
                actor="task",
            )
            return ConfirmStep.WAITING
        except CovageError as exc:
            if isinstance(exc, TRANSIENT_ERRORS):
                raise
            return _abort(session, refusal_text(exc))
        if remote.state and remote.state != schemas.SESSION_CREATED:
            store_confirmed(session, remote)
            return ConfirmStep.POLL
    OrderSession.objects.filter(pk=session_id).update(confirm_attempted_at=timezone.now())
    try:
        remote = client.confirm_session(session.covage_id)
    except CovageValidationError as exc:
        return _refused_confirmation(client, session, exc)
    except CovageRateLimited:
        # A 429 is a definite "not now": nothing reached Covage, nothing to look up.
        OrderSession.objects.filter(pk=session_id).update(confirm_attempted_at=None)
        raise
    except TRANSIENT_ERRORS:
        raise  # the task retries; the next run reads the session back first
    except CovageError as exc:
        # 403, 404, credentials: a retry will not help until a person acts.
        return _abort(session, refusal_text(exc))
    store_confirmed(session, remote)
    return ConfirmStep.POLL


def _refused_confirmation(
    client: CovageClient, session: OrderSession, exc: CovageValidationError
) -> ConfirmStep:
    """A refusal may be Covage answering a second confirmation of ours (the first one's
    answer lost): where the session can be read back, check; otherwise it is a refusal,
    since without the look-up the portal never confirms twice (it waits for an export)."""
    try:
        current = lookups.read_session(client, session.covage_id)
    except (lookups.LookupUnavailable, CovageError):
        current = None
    if current is not None and current.state and current.state != schemas.SESSION_CREATED:
        store_confirmed(session, current)  # it was ours, answered twice
        return ConfirmStep.POLL
    logger.warning("confirmation of session %s refused: %s", session.pk, exc)
    return _abort(session, CONFIRMATION_REFUSED)


def store_confirmed(session: OrderSession, remote: schemas.OrderSession) -> None:
    now = timezone.now()
    values = {
        "confirmed_at": now,
        "next_poll_at": now + POLL_DUE,
        "sync_status": SyncStatus.CONFIRMED,
        "remote_read_at": now,
        # The /confirm/ answer carries no session state: the next poll reads Covage's own (a
        # state is never invented here).
        **remote_session_values(remote),
    }
    with transaction.atomic():
        # Once: the row lock this UPDATE takes, and its condition, make a second answer (the
        # first one's lost) change nothing. The worker's bookkeeping and Covage's values are
        # written without a history row, as the sync writes them (orders.wire).
        first = OrderSession.objects.filter(pk=session.pk, confirmed_at__isnull=True).update(
            **values
        )
        if first:
            for name, value in values.items():
                setattr(session, name, value)
            record(session=session, action="confirmed_at_covage", actor="task")
        store_items(session, remote.items)


def store_items(
    session: OrderSession, items: list[schemas.OrderLine], *, actor: str = "task"
) -> list[tuple[OrderLine, str]]:
    """Covage's view of the session's known lines (states, references, history entries),
    with an event per state change; returns the lines whose state changed, with the state
    they had. Items without a state (an answer that carries none) change nothing."""
    changed: list[tuple[OrderLine, str]] = []
    known = [item for item in items if item.id]
    # One transaction, the session's lines locked in one query, their events written in one
    # statement: the worker does this for every answer, and a commit per line was most of its
    # own time (issue 13's profiles). Each line is saved on its own: Django's bulk_update
    # (one UPDATE with a CASE per field) took twice the CPU of five saves.
    with transaction.atomic():
        by_covage_id = {
            line.covage_id: line
            for line in OrderLine.objects.select_for_update()
            .filter(session=session, covage_id__in=[item.id for item in known])
            .only(*MIRRORED_FIELDS, "session_id", "position", "external_id")
            .order_by("pk")
        }
        stored: list[tuple[OrderLine, schemas.OrderLine]] = []
        events: list[OrderEvent] = []
        for item in items:
            locked = by_covage_id.get(item.id)
            if locked is None:
                logger.warning("Covage line %s of session %s is unknown here", item.id, session.pk)
                continue
            previous = locked.remote_state
            before = {name: getattr(locked, name) for name in MIRRORED_FIELDS}
            apply_remote_line(locked, item)
            # Only what the answer changed: a poll that finds nothing new (most of them, while
            # Covage works) writes neither the line nor a history row for it.
            changed_fields = [
                name for name, value in before.items() if getattr(locked, name) != value
            ]
            if changed_fields:
                # No history row: Covage's answers are kept on their own (orders.wire).
                locked.save_without_historical_record(update_fields=changed_fields)
            stored.append((locked, item))
            if previous != locked.remote_state:
                events.append(
                    OrderEvent(
                        session=session,
                        line=locked,
                        action="line_state",
                        message=gettext_noop("Line %(position)s: %(before)s → %(after)s"),
                        message_params={
                            "position": locked.position,
                            "before": previous or "—",
                            "after": locked.remote_state,
                        },
                        actor=actor,
                    )
                )
                changed.append((locked, previous))
        record_all(events)
        store_histories(stored)
    return changed


class PollResult(enum.Enum):
    FINAL = "final"
    WAITING = "waiting"  # not final yet: poll again later
    EXPORT = "export"  # states come from the next export, which re-queues the poll
    GONE = "gone"  # the session was deleted meanwhile: nothing to follow


@in_portal_terms
def poll_session(*, session_id: int, client: CovageClient | None = None) -> PollResult:
    """Read the session back from Covage and store what changed."""
    session = OrderSession.objects.filter(pk=session_id).first()
    if session is None:
        return PollResult.GONE
    if session.remote_state in schemas.SESSION_FINAL_STATES:
        return PollResult.FINAL
    if session.settle_after:
        return PollResult.EXPORT
    client = client or get_client()
    try:
        remote = lookups.read_session(client, session.covage_id)
    except lookups.LookupUnavailable:
        # The documented way to learn states: the export (settle applies them).
        OrderSession.objects.filter(pk=session_id).update(
            poll_count=session.poll_count + 1, next_poll_at=timezone.now() + POLL_DUE
        )
        lookups.wait_for_export(session, after=timezone.now())
        return PollResult.EXPORT
    values = remote_session_values(remote)
    values["remote_read_at"] = timezone.now()
    values["poll_count"] = session.poll_count + 1
    values["next_poll_at"] = timezone.now() + POLL_DUE
    with transaction.atomic():  # one commit for the whole answer
        OrderSession.objects.filter(pk=session_id).update(**values)
        store_items(session, remote.items)
        if remote.state != session.remote_state and remote.state:
            record(
                session=session,
                action="session_state",
                message=f"{session.remote_state or '—'} → {remote.state}",
                actor="task",
            )
    final = remote.state in schemas.SESSION_FINAL_STATES
    return PollResult.FINAL if final else PollResult.WAITING


@transaction.atomic
def copy_rejected_lines(*, user: User, session: OrderSession) -> OrderSession:
    """A new draft session holding copies of the lines Covage rejected, to fix and resend.

    One copy per session: a second click (or tab) gets the copy the first one made, so a
    click never makes another session to send to Covage.
    """
    session = OrderSession.objects.select_for_update().get(pk=session.pk)
    existing = OrderSession.objects.filter(copied_from=session).first()
    if existing is not None:
        return existing
    rejected = list(
        session.lines.filter(
            deleted_at__isnull=True, remote_state=schemas.LINE_REJECTED_CREATION
        ).prefetch_related("contacts")
    )
    if not rejected:
        raise OrderError(_("No line of this session was rejected by Covage."))
    new_session = create_session(user=user, project_id=session.project_id)
    new_session.copied_from = session
    new_session.save(update_fields=["copied_from"])
    for line in rejected:
        copy_line_into(line, new_session)
    record(
        session=new_session,
        user=user,
        action="copied_rejected_lines",
        message=LINES_COPIED_FROM,
        message_params={"count": len(rejected), "session": session.external_id},
    )
    record(
        session=session,
        user=user,
        action="rejected_lines_copied",
        message=gettext_noop("Copied to %(session)s"),
        message_params={"session": new_session.external_id},
    )
    queue_sync(new_session)
    return new_session
