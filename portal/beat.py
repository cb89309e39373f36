"""Default periodic tasks (django-celery-beat), created after migrate when missing.

Once created, a task belongs to the admin: edits are kept; to stop one, disable it (a deleted
one comes back at the next migrate). Exactly one beat process must run.
"""

from __future__ import annotations

import json
from typing import Any

SCHEDULE_TIMEZONE = "Europe/Paris"


def ensure_periodic_task(
    *,
    name: str,
    task: str,
    description: str,
    every_seconds: int | None = None,
    crontab: dict[str, str] | None = None,
    kwargs: dict[str, Any] | None = None,
) -> None:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    if PeriodicTask.objects.filter(name=name).exists():
        return
    schedule: dict[str, Any] = {}
    if every_seconds is not None:
        schedule["interval"], _ = IntervalSchedule.objects.get_or_create(
            every=every_seconds, period=IntervalSchedule.SECONDS
        )
    else:
        fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*"}
        fields.update(crontab or {})
        schedule["crontab"], _ = CrontabSchedule.objects.get_or_create(
            month_of_year="*", timezone=SCHEDULE_TIMEZONE, **fields
        )
    PeriodicTask.objects.create(
        name=name,
        task=task,
        description=description,
        kwargs=json.dumps(kwargs or {}),
        **schedule,
    )
