"""The default beat schedule of exports, created after migrate when missing and then left to
the admin."""

from __future__ import annotations

from portal.beat import ensure_periodic_task

DAILY_EXPORT_NAME = "Daily CSV export"
PURGE_NAME = "Purge expired exports"
DAILY_EXPORT_TASK = "exports.tasks.run_scheduled_export"
PURGE_TASK = "exports.tasks.purge_expired_exports"


def ensure_default_schedule() -> None:
    ensure_periodic_task(
        name=DAILY_EXPORT_NAME,
        task=DAILY_EXPORT_TASK,
        crontab={"minute": "0", "hour": "6"},
        # The period names the slot: one export per day however often beat fires.
        kwargs={"period": "daily"},
        description="Exports every order session from Covage as CSV, once a day.",
    )
    ensure_periodic_task(
        name=PURGE_NAME,
        task=PURGE_TASK,
        crontab={"minute": "0"},
        description="Deletes export files past their retention.",
    )
