"""The dashboard's counts: what each one means, once, as a filter of sessions or of lines.

A count on the home page and the list it links to use the same condition (`session_queue`,
`line_queue`), so that a number never disagrees with the rows behind it.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from covage import schemas
from orders.models import OrderLine, SyncStatus

# Order states after which production is over (orders.services.tracking says the same).
DELIVERED_STATES = frozenset({schemas.ORDER_ACTIVE, schemas.ORDER_COMPLETED})
PRODUCTION_DONE_STATES = schemas.ORDER_FINAL_STATES | DELIVERED_STATES
# Line states of a created order that wait on Covage: explained in words on the timeline.
HELD_STATES = frozenset({schemas.LINE_HELD_ADV_VALIDATION, schemas.LINE_TECHNICAL_ERROR})

# Session queues.
DRAFTS = "drafts"
SYNC_FAILED = "sync_failed"
WAITING = "waiting"
ATTENTION = "attention"
SESSION_QUEUES = {
    DRAFTS: _("Drafts to finish"),
    SYNC_FAILED: _("Syncs failed"),
    WAITING: _("Waiting on Covage"),
    ATTENTION: _("Needs attention"),
}

# Line queues.
REJECTED = "rejected"
HELD = "held"
IN_PRODUCTION = "in_production"
DELIVERED_MONTH = "delivered_month"
LINE_QUEUES = {
    REJECTED: _("Rejected by Covage"),
    HELD: _("Held at Covage"),
    IN_PRODUCTION: _("In production"),
    DELIVERED_MONTH: _("Delivered this month"),
}


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    """The first moment of the current month, in the portal's time zone."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def session_queue(name: str, prefix: str = "") -> Q:
    """The condition of a session queue, on OrderSession (`prefix` reads it through a
    relation, e.g. "session__")."""
    p = prefix
    if name == DRAFTS:
        return Q(
            **{
                f"{p}confirm_requested_at__isnull": True,
                f"{p}sync_status__in": [SyncStatus.DRAFT, SyncStatus.SYNCING, SyncStatus.SYNCED],
                f"{p}remote_state__in": ["", schemas.SESSION_CREATED],
            }
        )
    if name == SYNC_FAILED:
        failed_lines = OrderLine.objects.filter(
            session=OuterRef(f"{p}pk"),
            deleted_at__isnull=True,
            sync_status=SyncStatus.SYNC_FAILED,
        )
        return Q(**{f"{p}sync_status": SyncStatus.SYNC_FAILED}) | Q(Exists(failed_lines))
    if name == WAITING:
        return Q(**{f"{p}sync_status": SyncStatus.CONFIRMING}) | (
            Q(**{f"{p}confirmed_at__isnull": False})
            & ~Q(**{f"{p}remote_state__in": list(schemas.SESSION_FINAL_STATES)})
        )
    if name == ATTENTION:
        return Q(**{f"{p}attention_since__isnull": False})
    raise KeyError(name)


def line_queue(name: str, *, now: dt.datetime | None = None) -> Q:
    """The condition of a line queue, on OrderLine (live lines are filtered elsewhere)."""
    if name == REJECTED:
        return Q(remote_state=schemas.LINE_REJECTED_CREATION)
    if name == HELD:
        return Q(remote_state__in=list(HELD_STATES)) & Q(tracking_state="")
    if name == IN_PRODUCTION:
        return ~Q(order_reference="") & ~Q(tracking_state__in=list(PRODUCTION_DONE_STATES))
    if name == DELIVERED_MONTH:
        return Q(tracking_state__in=list(DELIVERED_STATES), delivered_at__gte=month_start(now))
    raise KeyError(name)
