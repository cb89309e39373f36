"""The default beat schedule of notifications: the hourly digest."""

from __future__ import annotations

from portal.beat import ensure_periodic_task

DIGEST_NAME = "Send the notification digests"


def ensure_default_schedule() -> None:
    ensure_periodic_task(
        name=DIGEST_NAME,
        task="notifications.tasks.send_digests",
        crontab={"minute": "0"},
        description=(
            "Once an hour: one e-mail per user gathering the notifications not e-mailed yet."
        ),
    )
