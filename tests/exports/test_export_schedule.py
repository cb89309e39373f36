"""The beat schedule: default periodic tasks, and one scheduled export per period."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from factories import sales_user

from exports import services, tasks
from exports.models import ExportJob
from exports.schedule import DAILY_EXPORT_NAME, PURGE_NAME, ensure_default_schedule
from portal.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


def test_default_periodic_tasks_exist_after_migrate():
    daily = PeriodicTask.objects.get(name=DAILY_EXPORT_NAME)
    assert daily.enabled
    assert daily.task == "exports.tasks.run_scheduled_export"
    assert json.loads(daily.kwargs) == {"period": "daily"}
    assert (daily.crontab.minute, daily.crontab.hour) == ("0", "6")
    assert str(daily.crontab.timezone) == "Europe/Paris"
    purge = PeriodicTask.objects.get(name=PURGE_NAME)
    assert purge.task == "exports.tasks.purge_expired_exports"
    assert (purge.crontab.minute, purge.crontab.hour) == ("0", "*")
    # Beat sends these names: the worker must know them.
    app.loader.import_default_modules()
    assert daily.task in app.tasks and purge.task in app.tasks


def test_edits_in_the_admin_survive_the_next_migrate():
    daily = PeriodicTask.objects.get(name=DAILY_EXPORT_NAME)
    daily.crontab.hour = "7"
    daily.crontab.save()
    daily.enabled = False
    daily.save()

    ensure_default_schedule()

    daily.refresh_from_db()
    assert daily.crontab.hour == "7" and not daily.enabled
    assert PeriodicTask.objects.filter(name=DAILY_EXPORT_NAME).count() == 1


def test_beat_firing_twice_in_one_day_makes_one_export(sent_tasks):
    first = tasks.run_scheduled_export.run(period="daily")
    second = tasks.run_scheduled_export.run(period="daily")

    assert first is not None and second is None
    job = ExportJob.objects.get()
    assert job.trigger == ExportJob.Trigger.SCHEDULED and job.requested_by is None
    assert job.schedule_slot == f"daily:{timezone.localdate():%Y-%m-%d}"
    assert len(sent_tasks.named("start")) == 1


def test_slot_is_the_period_in_paris_time():
    late_evening_utc = datetime(2025, 7, 8, 22, 30, tzinfo=UTC)  # 00:30 on the 9th in Paris
    assert services.schedule_slot_for(period="daily", now=late_evening_utc) == "daily:2025-07-09"
    assert services.schedule_slot_for(period="hourly", now=late_evening_utc) == (
        "hourly:2025-07-09T00"
    )
    assert services.schedule_slot_for(period="weekly", now=late_evening_utc) == "weekly:2025-W28"


def test_scheduled_export_inside_the_window_waits_instead_of_failing(sent_tasks):
    services.request_export(user=sales_user())
    allowed_at = services.next_export_allowed_at(account="demo")

    job = services.run_scheduled_export(slot="daily:2025-07-09")

    assert job is not None and job.status == ExportJob.Status.QUEUED
    assert job.not_before == allowed_at
    start = sent_tasks.named("start")[-1]
    assert start.args == (job.pk,) and 290 < start.countdown <= 300


def test_scheduled_export_produces_a_file(sandbox, sent_tasks):
    job = services.run_scheduled_export(slot="daily:2025-07-10")
    tasks.start_export.run(job.pk)
    assert tasks.poll_export.run(job.pk, expected_poll=0) is True
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED and job.file
