"""The default beat schedule of orders."""

from __future__ import annotations

from portal.beat import ensure_periodic_task

SWEEP_NAME = "Re-queue stalled order work"
TRACK_NAME = "Follow created orders"


def ensure_default_schedule() -> None:
    ensure_periodic_task(
        name=SWEEP_NAME,
        task="orders.tasks.sweep",
        every_seconds=60,
        description="Sends again what was accepted locally but never reached Covage.",
    )
    ensure_periodic_task(
        name=TRACK_NAME,
        task="orders.tasks.track_orders",
        every_seconds=300,
        description="Reads the production steps of created orders until they are delivered.",
    )
