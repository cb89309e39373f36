"""Export tasks, called as a worker would call them; the messages they send are captured."""

from __future__ import annotations

import pytest
from django.utils import timezone
from export_factories import ExportJobFactory, finished_job
from factories import sales_user

from covage.sandbox.models import SandboxCall
from exports import services, tasks
from exports.models import ExportJob

pytestmark = pytest.mark.django_db(transaction=True)


def test_start_task_starts_the_export_then_schedules_the_first_poll(sandbox, sent_tasks):
    job = services.request_export(user=sales_user())
    sent_tasks.clear()

    tasks.start_export.run(job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.task_id
    [poll] = sent_tasks.calls
    assert poll.name == "poll" and poll.args == (job.pk,)
    assert poll.kwargs == {"expected_poll": 0}
    assert poll.countdown == 2.0


def test_poll_task_reschedules_itself_with_backoff_while_covage_works(sandbox, sent_tasks):
    sandbox(EXPORT_DELAY=600)
    job = services.request_export(user=sales_user())
    tasks.start_export.run(job.pk)
    sent_tasks.clear()

    countdowns = []
    for expected in range(4):
        assert tasks.poll_export.run(job.pk, expected_poll=expected) is None
        [next_poll] = sent_tasks.calls
        assert next_poll.kwargs == {"expected_poll": expected + 1}
        countdowns.append(next_poll.countdown)
        sent_tasks.clear()

    assert countdowns == [4.0, 8.0, 16.0, 32.0]


def test_poll_task_stops_when_the_file_is_stored(sandbox, sent_tasks):
    job = services.request_export(user=sales_user())
    tasks.start_export.run(job.pk)
    sent_tasks.clear()

    assert tasks.poll_export.run(job.pk, expected_poll=0) is True

    assert sent_tasks.calls == []
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED and job.file


def test_poll_task_waits_for_retry_after_when_covage_throttles(sandbox, sent_tasks):
    sandbox(EXPORT_DELAY=600)
    job = services.request_export(user=sales_user())
    tasks.start_export.run(job.pk)
    sent_tasks.clear()
    # Every call now gets a 429 asking for two minutes: longer than the client sleeps through.
    sandbox(RATE_LIMIT_RATE=1.0, RATE_LIMIT_RETRY_AFTER=120)

    assert tasks.poll_export.run(job.pk, expected_poll=0) is None

    [next_poll] = sent_tasks.calls
    assert 100 < next_poll.countdown <= 120
    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.retry_after_until > timezone.now()


def test_redelivered_poll_message_is_dropped_without_calling_covage(sandbox, sent_tasks):
    sandbox(EXPORT_DELAY=600)
    job = services.request_export(user=sales_user())
    tasks.start_export.run(job.pk)
    tasks.poll_export.run(job.pk, expected_poll=0)
    sent_tasks.clear()
    calls = SandboxCall.objects.count()

    assert tasks.poll_export.run(job.pk, expected_poll=0) is False

    assert sent_tasks.calls == []
    assert SandboxCall.objects.count() == calls


def test_redelivered_start_message_does_not_start_a_second_export(sandbox, sent_tasks):
    job = services.request_export(user=sales_user())
    tasks.start_export.run(job.pk)
    tasks.start_export.run(job.pk)

    posts = SandboxCall.objects.filter(method="POST", path__contains="/export/csv/")
    assert posts.count() == 1


def test_start_task_for_a_failed_job_does_nothing(sent_tasks):
    job = ExportJobFactory(status=ExportJob.Status.FAILED, finished_at=timezone.now())
    tasks.start_export.run(job.pk)
    assert sent_tasks.calls == []
    assert SandboxCall.objects.count() == 0


def test_purge_task_deletes_expired_files():
    job = finished_job()
    job.expires_at = timezone.now()
    job.save()

    assert tasks.purge_expired_exports.run() == 1


def test_tasks_are_acknowledged_late():
    for task in (
        tasks.start_export,
        tasks.poll_export,
        tasks.purge_expired_exports,
        tasks.run_scheduled_export,
    ):
        assert task.acks_late is True
