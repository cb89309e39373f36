"""The default beat schedule of orders."""

from __future__ import annotations

from portal.beat import ensure_periodic_task

SWEEP_NAME = "Re-queue stalled order work"
TRACK_NAME = "Follow created orders"
REFERENTIALS_NAME = "Refresh Covage's projects and ENNIs"
REFERENTIALS_EVERY = 15 * 60


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
    ensure_periodic_task(
        name=REFERENTIALS_NAME,
        task="orders.tasks.refresh_referentials",
        every_seconds=REFERENTIALS_EVERY,
        description=(
            "Reads the lists the order forms offer; pages read the stored copy, never Covage."
        ),
    )
