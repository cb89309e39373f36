"""The default beat schedule, created after migrate when missing and then left to the admin."""

from __future__ import annotations

import json

DAILY_EXPORT_NAME = "Daily CSV export"
PURGE_NAME = "Purge expired exports"
DAILY_EXPORT_TASK = "exports.tasks.run_scheduled_export"
PURGE_TASK = "exports.tasks.purge_expired_exports"
SCHEDULE_TIMEZONE = "Europe/Paris"


def ensure_default_schedule() -> None:
    """Create the two periodic tasks if they do not exist; never touch edited ones."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if not PeriodicTask.objects.filter(name=DAILY_EXPORT_NAME).exists():
        six_am, _ = CrontabSchedule.objects.get_or_create(
            minute="0",
            hour="6",
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=SCHEDULE_TIMEZONE,
        )
        PeriodicTask.objects.create(
            name=DAILY_EXPORT_NAME,
            task=DAILY_EXPORT_TASK,
            crontab=six_am,
            # The period names the slot: one export per day however often beat fires.
            kwargs=json.dumps({"period": "daily"}),
            description="Exports every order session from Covage as CSV, once a day.",
        )
    if not PeriodicTask.objects.filter(name=PURGE_NAME).exists():
        hourly, _ = CrontabSchedule.objects.get_or_create(
            minute="0",
            hour="*",
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=SCHEDULE_TIMEZONE,
        )
        PeriodicTask.objects.create(
            name=PURGE_NAME,
            task=PURGE_TASK,
            crontab=hourly,
            description="Deletes export files past their retention.",
        )
