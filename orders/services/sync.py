"""Pushing drafts to Covage and writing back what it answers (called by orders.tasks).

One worker at a time handles a session (a lease on the row). For each session:
1. create it at Covage if needed — after an ambiguous failure, find it by external_id first;
2. DELETE the lines the user deleted;
3. create or PATCH every line whose version Covage has not got — after an ambiguous create,
   read the session back and recognise the line by its external_id;
4. write back ids, states, references, `state_change` and `termination_error` entries.
The look-ups of steps 1 and 3 are not documented: where Covage does not serve them, the
session waits for a CSV export (orders.services.settle) and nothing is sent again until the
export shows whether the first request arrived.
Field errors Covage returned are kept on the line (shown on the field and step); transient
failures are raised (as RemoteUnavailable) so the task retries with backoff; any other refusal
(403, 404, ...) stops the automatic work on the waiting lines, with the reason, until a person
acts. No database lock is held during a call.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from covage import schemas
from covage.client import CovageClient, get_client
from covage.errors import (
    CovageError,
    CovageNotFound,
    CovageUnavailable,
    CovageValidationError,
)
from orders.models import OrderLine, OrderSession, SyncStatus
from orders.services import lookups
from orders.services.events import record
from orders.services.remote import (
    TRANSIENT_ERRORS,
    in_portal_terms,
    refusal_text,
    unavailable_text,
)
from orders.wire import (
    LINE_UPDATE_FIELDS,
    line_payload,
    remote_line_values,
    remote_session_values,
    store_history,
)

logger = logging.getLogger(__name__)

# Every field of the PATCH table is sent (nulls included), so a cleared value is cleared at
# Covage too; the offer fields are not in that table (see wire.LINE_UPDATE_FIELDS).


class SyncResult(enum.Enum):
    DONE = "done"
    BUSY = "busy"  # another worker holds the session: try again shortly
    NOTHING = "nothing"
    WAITING = "waiting"  # an unknown outcome waits for an export (the export re-queues it)


# The lease's margin beyond one call to Covage; renewing no more often than this keeps at
# least one call's length (connect + read timeouts) ahead of the holder.
LEASE_MARGIN_SECONDS = 10


def _lease_duration() -> timedelta:
    # Long enough for one call to Covage (plus our own work), renewed between calls: a
    # worker killed mid-sync blocks its session for less than a minute.
    return timedelta(
        seconds=settings.COVAGE_CONNECT_TIMEOUT
        + settings.COVAGE_READ_TIMEOUT
        + LEASE_MARGIN_SECONDS
    )


class Lease:
    """The right to push one session, held by one worker at a time (see module docstring)."""

    def __init__(self, session_id: int) -> None:
        self.session_id = session_id
        self.owner = uuid.uuid4().hex
        self.renewed = time.monotonic()

    def acquire(self) -> bool:
        now = timezone.now()
        free = Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now)
        taken = OrderSession.objects.filter(free, pk=self.session_id).update(
            sync_lease_until=now + _lease_duration(), sync_lease_owner=self.owner
        )
        self.renewed = time.monotonic()
        return taken == 1

    def renew(self) -> None:
        """Extend the lease between calls, once its margin has gone by: renewing after every
        call (one commit each) was a measurable share of the worker's time, and until the
        margin has gone the lease still covers a whole call at its timeouts."""
        if time.monotonic() - self.renewed < LEASE_MARGIN_SECONDS:
            return
        OrderSession.objects.filter(pk=self.session_id, sync_lease_owner=self.owner).update(
            sync_lease_until=timezone.now() + _lease_duration()
        )
        self.renewed = time.monotonic()

    def release(self) -> None:
        # Only ours: if it expired and another worker took it, that one keeps it.
        OrderSession.objects.filter(pk=self.session_id, sync_lease_owner=self.owner).update(
            sync_lease_until=None, sync_lease_owner=""
        )


def attempt_may_be_in_flight(attempted_at: datetime | None) -> bool:
    """True while a request sent at `attempted_at` could still be answered: a worker killed
    mid-call leaves its request to finish at Covage. Looking it up before then could miss it
    and send a duplicate, so the caller waits instead."""
    if attempted_at is None:
        return False
    window = timedelta(seconds=settings.COVAGE_READ_TIMEOUT + settings.COVAGE_CONNECT_TIMEOUT)
    return timezone.now() < attempted_at + window


def _is_ambiguous(exc: CovageError) -> bool:
    return isinstance(exc, CovageUnavailable) and exc.ambiguous


class AttemptInFlight(CovageUnavailable):
    """An earlier attempt may still be running at Covage: try again a little later."""


class AwaitingExport(Exception):
    """An unknown outcome can only be settled by an export: nothing is sent meanwhile."""


def is_pending(line: OrderLine) -> bool:
    """A live line whose current version Covage has not got (and has not refused)."""
    return (
        line.deleted_at is None
        and line.synced_version < line.version
        and line.rejected_version != line.version
    )


def _lines_to_push(session: OrderSession) -> tuple[list[OrderLine], list[OrderLine]]:
    """The lines to DELETE at Covage, and the pending ones (contacts read for their payload),
    in one query: this runs at the start of every sync."""
    lines = list(session.lines.order_by("position", "pk").prefetch_related("contacts"))
    deletions = [line for line in lines if line.deleted_at is not None and line.covage_id]
    return deletions, [line for line in lines if is_pending(line)]


def offer_differs(line: OrderLine, remote: schemas.OrderLine) -> bool:
    return (remote.offer_family, remote.offer_technology) != (
        line.offer_family,
        line.offer_technology,
    )


def discard_remote_line(session: OrderSession, covage_id: str) -> None:
    """Have the sync DELETE a line that Covage holds and no portal line should be linked to
    (an earlier attempt's, with an offer that PATCH cannot change): a placeholder line,
    already deleted here, carries its id until Covage confirms the DELETE."""
    if OrderLine.objects.filter(covage_id=covage_id).exists():
        return
    OrderLine.objects.create(
        session=session,
        position=0,
        covage_id=covage_id,
        deleted_at=timezone.now(),
        sync_status=SyncStatus.SYNCING,
    )
    record(session=session, action="remote_line_discarded", message=covage_id, actor="sync")


@in_portal_terms
def sync_session(*, session_id: int, client: CovageClient | None = None) -> SyncResult:
    """Push the session's pending changes to Covage (see the module docstring). Raises
    RemoteUnavailable when Covage cannot be reached: the task tries again later."""
    return push_session(session_id=session_id, client=client)[0]


def push_session(
    *, session_id: int, client: CovageClient | None = None
) -> tuple[SyncResult, OrderSession | None]:
    """sync_session, with the session as this push read it under the lease and left it
    (None when another worker holds it): the confirmation goes on from it without reading it
    again. Raises Covage's errors: callers wrap it with in_portal_terms."""
    lease = Lease(session_id)
    if not lease.acquire():
        return SyncResult.BUSY, None
    try:
        # Read once the lease is held: an earlier holder's writes (the session's covage_id,
        # its attempts) are seen, so nothing it sent is sent again.
        session = OrderSession.objects.get(pk=session_id)
        if session.settle_after and not session.covage_id:
            return SyncResult.WAITING, session  # the session's creation waits for an export
        deletions, lines = _lines_to_push(session)
        if not deletions and not lines:
            _finish(session)
            return SyncResult.NOTHING, session
        client = client or get_client()
        waiting = False
        try:
            try:
                _ensure_remote_session(client, session)
            except AwaitingExport:
                return SyncResult.WAITING, session
            lease.renew()
            for line in deletions:
                _push_delete(client, session, line)
                lease.renew()
            for line in lines:
                try:
                    _push_line(client, session, line)
                except AwaitingExport:
                    waiting = True  # this line waits; the others go on
                lease.renew()
        except TRANSIENT_ERRORS as exc:
            _note_session_error(session, unavailable_text(exc))
            raise
        except CovageError as exc:
            _stop_on_refusal(session, exc)
            _finish(session)
            return SyncResult.DONE, session
        _finish(session)
        return (SyncResult.WAITING if waiting else SyncResult.DONE), session
    finally:
        lease.release()


def _stop_on_refusal(session: OrderSession, exc: CovageError) -> None:
    """Credentials, permissions (403), a missing object (404), an unexpected answer: a retry
    will not help until a person acts. Say it on every waiting line, and mark their versions
    as refused so that neither the task nor the sweeper sends them again by itself (the
    Retry button, or the next change, does)."""
    message = refusal_text(exc)
    logger.warning("sync of session %s stopped: %s", session.pk, exc)
    _note_session_error(session, message)
    session.lines.filter(Q(deleted_at__isnull=False) | Q(sync_status=SyncStatus.SYNCING)).update(
        sync_status=SyncStatus.SYNC_FAILED,
        last_sync_error=message,
        rejected_version=F("version"),
    )


REFUSED_VALUES = gettext_noop(
    "Covage refused some of the line's values: correct them and save again."
)


def _ensure_remote_session(client: CovageClient, session: OrderSession) -> None:
    if session.covage_id:
        return
    remote = None
    if session.create_attempted_at:
        if attempt_may_be_in_flight(session.create_attempted_at):
            raise AttemptInFlight(
                gettext("An earlier attempt to create the session may still be running.")
            )
        # An earlier POST may have been processed although its answer was lost.
        remote = _look_up_session(client, session)
    if remote is None:
        attempts = OrderSession.objects.filter(pk=session.pk)
        attempts.update(create_attempted_at=timezone.now())
        try:
            remote = client.create_session(
                external_id=session.external_id, project_id=session.project_id
            )
        except CovageError as exc:
            if not _is_ambiguous(exc):
                attempts.update(create_attempted_at=None)  # a definite "no": nothing to find
                raise
            # Too early to be sure (the request may still be running): look once now, and
            # otherwise let the task retry, which looks again after the in-flight window.
            try:
                remote = lookups.find_session(client, session.external_id)
            except lookups.LookupUnavailable:
                remote = None
            if remote is None:
                raise
    values = remote_session_values(remote)
    with transaction.atomic():
        OrderSession.objects.filter(pk=session.pk).update(**values)
        record(
            session=session,
            action="session_created_at_covage",
            message=remote.id,
            actor="sync",
        )
    for name, value in values.items():
        setattr(session, name, value)


def _look_up_session(client: CovageClient, session: OrderSession) -> schemas.OrderSession | None:
    """The session an earlier POST created, None if Covage has none; raises AwaitingExport
    when only an export can tell."""
    try:
        return lookups.find_session(client, session.external_id)
    except lookups.LookupUnavailable:
        assert session.create_attempted_at is not None
        lookups.wait_for_export(
            session, after=session.create_attempted_at + lookups.in_flight_window()
        )
        record(
            session=session,
            action="waiting_for_export",
            message=gettext_noop("Did Covage create the session? Its next export will tell."),
            actor="sync",
        )
        raise AwaitingExport() from None


def _push_delete(client: CovageClient, session: OrderSession, line: OrderLine) -> None:
    # Already gone is fine: an earlier attempt whose answer was lost did it.
    with contextlib.suppress(CovageNotFound):
        client.delete_line(session.covage_id, line.covage_id)
    record(
        session=session,
        action="line_deleted_at_covage",
        message=gettext_noop("Line %(position)s"),
        message_params={"position": line.position},
        actor="sync",
    )
    line.delete()


def _push_line(client: CovageClient, session: OrderSession, line: OrderLine) -> None:
    sent_version = line.version
    payload = line_payload(line, session)
    try:
        if line.covage_id:
            remote = client.update_line(
                session.covage_id, line.covage_id, payload, fields=LINE_UPDATE_FIELDS
            )
        else:
            remote = _create_line(client, session, line, payload)
    except CovageValidationError as exc:
        _store_rejection(line, sent_version, exc)
        return
    except TRANSIENT_ERRORS as exc:
        OrderLine.objects.filter(pk=line.pk).update(last_sync_error=unavailable_text(exc))
        raise
    _store_remote_line(line.pk, remote, sent_version)


def _create_line(
    client: CovageClient, session: OrderSession, line: OrderLine, payload: schemas.LinePayload
) -> schemas.OrderLine:
    if line.create_attempted_at:
        if attempt_may_be_in_flight(line.create_attempted_at):
            raise AttemptInFlight(
                gettext("An earlier attempt to create the line may still be running.")
            )
        # An earlier POST may have created it: look among the session's lines first.
        try:
            found = _find_remote_line(client, session, line)
        except lookups.LookupUnavailable:
            lookups.wait_for_export(
                session, after=line.create_attempted_at + lookups.in_flight_window()
            )
            record(
                session=session,
                line=line,
                action="waiting_for_export",
                message=gettext_noop(
                    "Did Covage create line %(position)s? Its next export will tell."
                ),
                message_params={"position": line.position},
                actor="sync",
            )
            raise AwaitingExport() from None
        if found is not None:
            return _adopt_found_line(client, session, line, found, payload)
    attempts = OrderLine.objects.filter(pk=line.pk)
    attempts.update(create_attempted_at=timezone.now())
    try:
        return client.create_line(session.covage_id, payload)
    except CovageError as exc:
        if not _is_ambiguous(exc):
            attempts.update(create_attempted_at=None)  # a definite "no": nothing to find
            raise
        try:
            found = _find_remote_line(client, session, line)
        except lookups.LookupUnavailable:
            found = None  # the task retries, and settles it after the in-flight window
        if found is None:
            raise
        return _adopt_found_line(client, session, line, found, payload)


def _adopt_found_line(
    client: CovageClient,
    session: OrderSession,
    line: OrderLine,
    found: schemas.OrderLine,
    payload: schemas.LinePayload,
) -> schemas.OrderLine:
    """Covage has the version of an earlier attempt: send this one on top, or, when the offer
    changed meanwhile (PATCH cannot change it), delete that line and create this one anew."""
    if offer_differs(line, found):
        client.delete_line(session.covage_id, found.id)
        record(session=session, action="remote_line_discarded", message=found.id, actor="sync")
        OrderLine.objects.filter(pk=line.pk).update(create_attempted_at=timezone.now())
        return client.create_line(session.covage_id, payload)
    return client.update_line(session.covage_id, found.id, payload, fields=LINE_UPDATE_FIELDS)


def _find_remote_line(
    client: CovageClient, session: OrderSession, line: OrderLine
) -> schemas.OrderLine | None:
    """The remote line carrying this line's external_id and not linked to another line."""
    remote_session = lookups.read_session(client, session.covage_id)
    taken = set(
        session.lines.exclude(pk=line.pk).exclude(covage_id="").values_list("covage_id", flat=True)
    )
    for item in remote_session.items:
        if item.external_id == line.external_id and item.id not in taken:
            logger.info("line %s found at Covage after an ambiguous create", line.pk)
            return item
    return None


def _store_remote_line(line_id: int, remote: schemas.OrderLine, sent_version: int) -> None:
    """Covage's answer for the version sent, in one UPDATE that reads nothing first: the
    worker does this for every line it sends, and a locked read before the write was a sixth
    of its statements (issue 13). The row lock the UPDATE takes, and its conditions evaluated
    on the row as it is then, do what the locked read did."""
    # Saved meanwhile by its user (a version above the one sent)? Then that newer version is
    # still to be sent.
    sent_is_current = Q(version__lte=sent_version) | Q(version__lte=F("synced_version"))
    with transaction.atomic():
        # A queryset update: no history row (orders.wire), nor any signal listens to lines.
        stored = OrderLine.objects.filter(pk=line_id).update(
            **remote_line_values(remote),
            synced_version=Greatest(F("synced_version"), Value(sent_version)),
            remote_errors={},
            rejected_version=0,
            last_sync_error="",
            last_synced_at=timezone.now(),
            sync_status=Case(
                When(sent_is_current, then=Value(SyncStatus.SYNCED)),
                default=Value(SyncStatus.SYNCING),
            ),
        )
        if stored:  # else deleted meanwhile: its entries have nothing to belong to
            store_history(OrderLine(pk=line_id), remote)


def _store_rejection(line: OrderLine, sent_version: int, exc: CovageValidationError) -> None:
    with transaction.atomic():
        locked = OrderLine.objects.select_for_update().get(pk=line.pk)
        locked.remote_errors = exc.field_errors or {"": [REFUSED_VALUES]}
        locked.rejected_version = sent_version
        locked.last_sync_error = REFUSED_VALUES
        locked.sync_status = SyncStatus.SYNC_FAILED
        locked.save(
            update_fields=["remote_errors", "rejected_version", "last_sync_error", "sync_status"]
        )
    record(
        session=locked.session,
        line=locked,
        action="line_refused_by_covage",
        message=", ".join(sorted(locked.remote_errors)) or REFUSED_VALUES,
        actor="sync",
    )


def _note_session_error(session: OrderSession, message: str) -> None:
    OrderSession.objects.filter(pk=session.pk).update(last_sync_error=message)


# The confirmation owns a confirming or confirmed session's status (orders.services.confirm).
CONFIRMATION_STATUSES = (SyncStatus.CONFIRMING, SyncStatus.CONFIRMED)


def _finish(session: OrderSession) -> None:
    """Derive the session's sync status from its lines, unless the confirmation owns it: as
    read under the lease, or since (the UPDATE's own condition: a click on Confirm during the
    sync keeps its status)."""
    if session.sync_status in CONFIRMATION_STATUSES:
        return
    lines = session.lines.all()
    statuses = set(lines.values_list("sync_status", flat=True))
    if SyncStatus.SYNC_FAILED in statuses:
        status = SyncStatus.SYNC_FAILED
    elif SyncStatus.SYNCING in statuses or lines.filter(deleted_at__isnull=False).exists():
        status = SyncStatus.SYNCING
    elif session.covage_id:
        status = SyncStatus.SYNCED
    else:
        status = SyncStatus.DRAFT
    values: dict[str, object] = {"sync_status": status}
    if status == SyncStatus.SYNCED:
        values.update(last_synced_at=timezone.now(), last_sync_error="", automatic_retries=0)
    written = (
        OrderSession.objects.filter(pk=session.pk)
        .exclude(sync_status__in=CONFIRMATION_STATUSES)
        .update(**values)
    )
    if written:
        for name, value in values.items():
            setattr(session, name, value)


def mark_given_up(*, session_id: int, message: str) -> None:
    """Retries exhausted: say so on the lines; the sweeper will try again later. `message`
    is an English msgid, translated when shown."""
    OrderLine.objects.filter(session_id=session_id, sync_status=SyncStatus.SYNCING).update(
        sync_status=SyncStatus.SYNC_FAILED, last_sync_error=message
    )
    OrderSession.objects.filter(pk=session_id).exclude(
        sync_status__in=(SyncStatus.CONFIRMING, SyncStatus.CONFIRMED)
    ).update(sync_status=SyncStatus.SYNC_FAILED, last_sync_error=message)
