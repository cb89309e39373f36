"""Following lines that became orders, through the order-tracking API (phase 2).

A periodic task reads each open order (`/api/v1/order/{ref}/` and its `historic/`) until its
production is over: delivered (`active`, or `completed` on the older page) or ended
(rejected, cancelled, terminated). States are stored as received.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from covage import schemas
from covage.client import CovageClient, get_client
from covage.errors import CovageNotFound
from orders.models import OrderLine, ProductionStep
from orders.services.errors import RemoteError
from orders.services.events import record
from orders.services.remote import in_portal_terms

logger = logging.getLogger(__name__)

# Production is over once the service is delivered or the order has ended.
TRACKING_DONE_STATES = schemas.ORDER_FINAL_STATES | {schemas.ORDER_ACTIVE, schemas.ORDER_COMPLETED}


def lines_to_track() -> list[int]:
    return list(
        OrderLine.objects.exclude(order_reference="")
        .exclude(tracking_state__in=TRACKING_DONE_STATES)
        .filter(deleted_at__isnull=True)
        .order_by("tracking_checked_at", "pk")
        .values_list("pk", flat=True)
    )


@in_portal_terms
def track_line(*, line_id: int, client: CovageClient | None = None) -> str:
    """Read one order and its historic; returns its state. Raises RemoteError when Covage
    fails."""
    line = OrderLine.objects.select_related("session").get(pk=line_id)
    client = client or get_client()
    try:
        order = client.get_order(line.order_reference)
    except CovageNotFound:
        # Not visible in tracking yet (Covage creates it asynchronously): next round.
        OrderLine.objects.filter(pk=line_id).update(tracking_checked_at=timezone.now())
        return line.tracking_state
    steps = client.get_order_historic(line.order_reference)
    with transaction.atomic():
        for step in steps:
            ProductionStep.objects.get_or_create(
                line=line,
                code=step.code,
                date=step.date,
                defaults={"label": step.label, "raw": step.raw},
            )
        OrderLine.objects.filter(pk=line_id).update(
            tracking_state=order.state,
            tracking_checked_at=timezone.now(),
            **_order_values(line, order),
        )
    if order.state != line.tracking_state:
        record(
            session=line.session,
            line=line,
            action="order_state",
            message=f"{line.order_reference}: {line.tracking_state or '—'} → {order.state}",
            actor="task",
        )
    return order.state


# Delivered: the service is up (`active`; `completed` on the older page).
DELIVERED_STATES = frozenset({schemas.ORDER_ACTIVE, schemas.ORDER_COMPLETED})


def _order_values(line: OrderLine, order: schemas.TrackedOrder) -> dict[str, object]:
    """What the tracked order adds to the line: its commitment, its cancellation, and when it
    was delivered (Covage's completion date, else now: the first read that saw it active).
    Only values Covage gave are written; a date already stored is kept."""
    values: dict[str, object] = {}
    if order.commitment:
        values["commitment"] = order.commitment[:32]
    if order.cancellation_date and not line.cancellation_date:
        values["cancellation_date"] = order.cancellation_date
    if order.cancellation_reason and not line.cancellation_reason:
        values["cancellation_reason"] = order.cancellation_reason
    if order.state in DELIVERED_STATES and line.delivered_at is None:
        values["delivered_at"] = order.completion_date or timezone.now()
    return values


def track_orders(*, limit: int = 200) -> int:
    """One round over the open orders; a failure on one does not stop the others."""
    done = 0
    client = get_client()
    for line_id in lines_to_track()[:limit]:
        try:
            track_line(line_id=line_id, client=client)
        except RemoteError as exc:
            logger.warning("tracking of line %s failed: %s", line_id, exc.__cause__ or exc)
            continue
        done += 1
    return done
