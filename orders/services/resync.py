"""The back office's answers to what an export showed (reconciliation): send a line again,
create again what Covage lost, or link a portal object to the Covage one it is.

Each only changes the portal's bookkeeping and queues the sync, which does the talking to
Covage as it always does (leases, look-ups before any creating POST, bounded retries).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.models import OrderLine, OrderSession, SyncStatus
from orders.services.drafts import queue_sync
from orders.services.errors import LockedError, OrderError
from orders.services.events import record
from orders.services.lookups import in_flight_window

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What the portal mirrored from Covage about a line that Covage no longer has: cleared, so the
# line is created again as a new one.
_REMOTE_LINE_VALUES: dict[str, Any] = {
    "covage_id": "",
    "remote_state": "",
    "temporary_reference": "",
    "order_reference": "",
    "building_ref": "",
    "order_date": None,
    "completion_date": None,
    "cancellation_date": None,
    "cancellation_reason": "",
    "remote_payload": {},
    "remote_errors": {},
    "tracking_state": "",
    "tracking_checked_at": None,
}
_REMOTE_SESSION_VALUES: dict[str, Any] = {
    "covage_id": "",
    "remote_state": "",
    "creation_date": None,
    "order_date": None,
    "completion_date": None,
    "cancellation_date": None,
    "create_attempted_at": None,
    "settle_after": None,
    "remote_read_at": None,
}


def _locked_session(session_id: int) -> OrderSession:
    return OrderSession.objects.select_for_update().get(pk=session_id)


def _locked_line(line_id: int) -> OrderLine:
    line = OrderLine.objects.select_for_update().filter(pk=line_id).first()
    if line is None or line.deleted_at is not None:
        raise OrderError(_("This line has been deleted in the portal."))
    return line


def _refuse_if_confirmed(session: OrderSession) -> None:
    if session.is_locked:
        raise LockedError(
            _(
                "This session has been confirmed: Covage no longer takes changes to it. Dismiss "
                "the difference with a reason, or take it up with Covage."
            )
        )


@transaction.atomic
def push_line_again(*, user: User, line: OrderLine) -> OrderLine:
    """Send the line's current values to Covage again (a PATCH of every field its table
    lists): for a value that Covage holds differently from the portal."""
    session = _locked_session(line.session_id)
    _refuse_if_confirmed(session)
    locked = _locked_line(line.pk)
    if not locked.covage_id:
        raise OrderError(
            _("Covage does not have this line yet: the sync creates it with the portal's values.")
        )
    # The current version counts as not sent: the sync PATCHes it (the version itself is left
    # alone, so nobody editing the line meets a false conflict).
    locked.synced_version = min(locked.synced_version, locked.version - 1)
    locked.rejected_version = 0
    locked.sync_status = SyncStatus.SYNCING
    locked.save(update_fields=["synced_version", "rejected_version", "sync_status", "updated_at"])
    record(
        session=session,
        user=user,
        line=locked,
        action="line_pushed_again",
        message=gettext_noop("Line %(position)s sent again to Covage"),
        message_params={"position": locked.position},
    )
    queue_sync(session)
    return locked


def _forget_remote_line(line: OrderLine) -> None:
    for name, value in _REMOTE_LINE_VALUES.items():
        setattr(line, name, value)
    line.synced_version = 0
    line.rejected_version = 0
    line.create_attempted_at = None
    line.sync_status = SyncStatus.SYNCING
    line.save(
        update_fields=[
            *_REMOTE_LINE_VALUES,
            "synced_version",
            "rejected_version",
            "create_attempted_at",
            "sync_status",
            "updated_at",
        ]
    )


@transaction.atomic
def recreate_line(*, user: User, line: OrderLine) -> OrderLine:
    """Covage no longer has this line: forget its Covage id and create it again."""
    session = _locked_session(line.session_id)
    _refuse_if_confirmed(session)
    locked = _locked_line(line.pk)
    if not session.covage_id:
        raise OrderError(
            _("Covage does not have this line's session: create the session again instead.")
        )
    previous = locked.covage_id
    _forget_remote_line(locked)
    record(
        session=session,
        user=user,
        line=locked,
        action="line_created_again",
        message=gettext_noop("Line %(position)s, missing at Covage (was %(id)s), created again"),
        message_params={"position": locked.position, "id": previous or "—"},
    )
    queue_sync(session)
    return locked


@transaction.atomic
def recreate_session(*, user: User, session: OrderSession) -> OrderSession:
    """Covage no longer has this session (nor its lines): forget their Covage ids and create
    them again. Lines deleted in the portal are simply forgotten: there is nothing to delete."""
    locked = _locked_session(session.pk)
    _refuse_if_confirmed(locked)
    if not locked.covage_id:
        raise OrderError(_("Covage does not have this session yet: the sync creates it."))
    previous = locked.covage_id
    locked.lines.filter(deleted_at__isnull=False).delete()
    for line in locked.lines.select_for_update():
        _forget_remote_line(line)
    for name, value in _REMOTE_SESSION_VALUES.items():
        setattr(locked, name, value)
    locked.sync_status = SyncStatus.SYNCING
    locked.save(update_fields=[*_REMOTE_SESSION_VALUES, "sync_status", "updated_at"])
    record(
        session=locked,
        user=user,
        action="session_created_again",
        message=gettext_noop("Missing at Covage (was %(id)s), created again"),
        message_params={"id": previous},
    )
    queue_sync(locked)
    return locked


@transaction.atomic
def link_session(*, user: User, session: OrderSession, covage_id: str) -> OrderSession:
    """The Covage session ``covage_id`` is this portal session (its creation answer was lost,
    or it was linked to nothing): record it. Covage may hold some of its lines already, so
    the sync looks for each unlinked line at Covage before it creates any."""
    covage_id = covage_id.strip()
    if not covage_id:
        raise OrderError(_("No Covage session to link."))
    locked = _locked_session(session.pk)
    if locked.covage_id:
        raise OrderError(
            _("This session is already linked to Covage session %(id)s.") % {"id": locked.covage_id}
        )
    if OrderSession.objects.filter(covage_id=covage_id).exists():
        raise OrderError(
            _("Covage session %(id)s is already linked to another portal session.")
            % {"id": covage_id}
        )
    locked.covage_id = covage_id
    locked.create_attempted_at = None
    locked.save(update_fields=["covage_id", "create_attempted_at", "updated_at"])
    # As after a creating POST whose answer was lost: look before posting (the look-up, or
    # else the next export, links the lines Covage has).
    looked_for_since = timezone.now() - in_flight_window()
    locked.lines.filter(
        covage_id="", deleted_at__isnull=True, create_attempted_at__isnull=True
    ).update(create_attempted_at=looked_for_since)
    record(
        session=locked,
        user=user,
        action="session_linked",
        message=gettext_noop("Linked to Covage session %(id)s"),
        message_params={"id": covage_id},
    )
    queue_sync(locked)
    return locked


@transaction.atomic
def link_line(*, user: User, line: OrderLine, covage_id: str) -> OrderLine:
    """The Covage line ``covage_id`` is this portal line: record it, and send it the portal's
    values unless the session is confirmed (then Covage's are the ones that count)."""
    covage_id = covage_id.strip()
    if not covage_id:
        raise OrderError(_("No Covage line to link."))
    session = _locked_session(line.session_id)
    locked = _locked_line(line.pk)
    if not session.covage_id:
        raise OrderError(_("This line's session is not linked to Covage: link the session first."))
    if locked.covage_id:
        raise OrderError(
            _("This line is already linked to Covage line %(id)s.") % {"id": locked.covage_id}
        )
    if OrderLine.objects.filter(covage_id=covage_id).exists():
        raise OrderError(
            _("Covage line %(id)s is already linked to another portal line.") % {"id": covage_id}
        )
    locked.covage_id = covage_id
    locked.create_attempted_at = None
    fields = ["covage_id", "create_attempted_at", "updated_at"]
    if session.is_locked:
        locked.synced_version = locked.version
        locked.sync_status = SyncStatus.SYNCED
        fields += ["synced_version", "sync_status"]
    elif locked.needs_sync:
        locked.sync_status = SyncStatus.SYNCING
        fields.append("sync_status")
    locked.save(update_fields=fields)
    record(
        session=session,
        user=user,
        line=locked,
        action="line_linked",
        message=gettext_noop("Line %(position)s linked to Covage line %(id)s"),
        message_params={"position": locked.position, "id": covage_id},
    )
    if locked.needs_sync:
        queue_sync(session)
    return locked
