"""Export services against the Covage sandbox over real HTTP (the live server)."""

from __future__ import annotations

import os
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from export_factories import ExportJobFactory, finished_job
from factories import sales_user

from covage.sandbox.models import ProductOrder, ProductOrderItem, SandboxAccount, SandboxCall
from exports import conf, services
from exports.models import ExportJob

pytestmark = pytest.mark.django_db(transaction=True)

EXPORT_POST = "/api/v1/product_order/export/csv/"


def export_posts() -> int:
    return SandboxCall.objects.filter(method="POST", path__startswith=EXPORT_POST).count()


def downloads() -> int:
    return SandboxCall.objects.filter(method="GET", path__endswith="/download/").count()


def add_sandbox_orders(count: int) -> None:
    """Order lines that Covage (the sandbox) holds for the demo account."""
    account, _ = SandboxAccount.objects.get_or_create(username="demo")
    session = ProductOrder.objects.create(
        account=account, external_id="portal-1", state="completed"
    )
    for number in range(count):
        ProductOrderItem.objects.create(
            product_order=session,
            state="acknowledged",
            order_reference=f"CMD_{number:04d}",
            data={
                "end_customer_name": f"Société Générale n°{number}",
                "note": "Accès par la cour, 2ᵉ étage",
            },
        )


def run_to_end(job: ExportJob, *, max_polls: int = 20) -> bool | None:
    """What the worker does: start once, then poll until the answer is final."""
    services.start_export_job(job_id=job.pk)
    for _ in range(max_polls):
        result = services.poll_export_job(job_id=job.pk)
        if result is not None:
            return result
    return None


def test_export_end_to_end_stores_the_csv_with_accents(sandbox, sent_tasks):
    add_sandbox_orders(3)
    user = sales_user()

    job = services.request_export(user=user)

    assert job.status == ExportJob.Status.QUEUED
    assert job.covage_account == "demo"
    assert [call.args for call in sent_tasks.named("start")] == [(job.pk,)]
    assert run_to_end(job) is True
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED
    assert job.task_id and job.started_at and job.stopped_at and job.finished_at
    assert job.file.name.startswith("exports/covage-export-")
    assert default_storage.exists(job.file.name)
    assert job.size_bytes == default_storage.size(job.file.name) > 0
    assert job.row_count == 3
    assert job.expires_at == job.finished_at + conf.retention()
    with job.file.open("rb") as handle:
        text = handle.read().decode("utf-8")
    assert text.startswith("product_order_id;")
    assert "Société Générale n°2" in text
    assert "Accès par la cour, 2ᵉ étage" in text
    assert export_posts() == 1 and downloads() == 1
    # No partial file is left behind next to the stored one.
    assert not list(Path(default_storage.path("exports/partial")).glob("*"))


def test_covage_failure_success_false_is_explained(sandbox):
    sandbox(EXPORT_FAILURE_RATE=1.0)
    job = services.request_export(user=sales_user())

    assert run_to_end(job) is False

    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert job.error_code == "success_false"
    assert "Covage could not produce the file" in job.error_text
    assert not job.file
    assert downloads() == 0


def test_local_guard_refuses_a_second_request_and_says_when(sandbox):
    user = sales_user()
    before = timezone.now()
    services.request_export(user=user)

    with pytest.raises(services.ExportTooSoon) as refused:
        services.request_export(user=user)

    allowed = refused.value.next_allowed_at
    assert before + timedelta(seconds=300) <= allowed <= timezone.now() + timedelta(seconds=300)
    assert services.next_export_allowed_at(account="demo") == allowed
    assert f"Next export possible at {timezone.localtime(allowed):%H:%M}" in str(refused.value)
    assert "one export every 5 minutes" in str(refused.value)
    assert ExportJob.objects.count() == 1
    # The guard is per Covage account: another account may export.
    assert services.next_export_allowed_at(account="other") is None


def test_guard_window_opens_again_after_the_window(sandbox, settings):
    settings.EXPORT_WINDOW_SECONDS = 60
    user = sales_user()
    first = services.request_export(user=user, now=timezone.now() - timedelta(seconds=61))
    second = services.request_export(user=user)
    assert first.pk != second.pk


def test_covage_429_is_honoured_with_its_retry_after(sandbox, settings):
    # Covage's own limit, with the portal's guard out of the way.
    settings.EXPORT_WINDOW_SECONDS = 0
    user = sales_user()
    first = services.request_export(user=user)
    assert services.start_export_job(job_id=first.pk) is not None
    second = services.request_export(user=user)

    assert services.start_export_job(job_id=second.pk) is None

    second.refresh_from_db()
    assert second.status == ExportJob.Status.RATE_LIMITED
    assert second.error_code == "429"
    assert second.retry_after_until is not None
    wait = (second.retry_after_until - timezone.now()).total_seconds()
    assert 280 < wait <= 300
    assert "Covage allows one export every" in second.error_text
    assert f"{timezone.localtime(second.retry_after_until):%H:%M}" in second.error_text
    # The portal now knows when Covage accepts the next one.
    assert services.next_export_allowed_at(account="demo") == second.retry_after_until
    assert export_posts() == 2


def test_scheduled_export_waits_out_a_429_and_asks_again(sandbox, settings):
    settings.EXPORT_WINDOW_SECONDS = 0
    manual = services.request_export(user=sales_user())
    services.start_export_job(job_id=manual.pk)
    scheduled = services.request_export(user=None, trigger=ExportJob.Trigger.SCHEDULED)

    step = services.start_export_job(job_id=scheduled.pk)

    assert step is not None and step.task == "start"
    assert 280 < step.countdown <= 300
    scheduled.refresh_from_db()
    assert scheduled.status == ExportJob.Status.RATE_LIMITED
    assert scheduled.is_active and scheduled.finished_at is None
    assert "The portal will ask again at" in scheduled.error_text
    # Run early (a re-delivered message): it waits instead of calling Covage.
    again = services.start_export_job(job_id=scheduled.pk)
    assert again is not None and again.task == "start" and again.countdown > 200
    assert export_posts() == 2


def test_unknown_task_404_fails_with_an_explanation(sandbox):
    job = ExportJobFactory(status=ExportJob.Status.RUNNING, task_id=str(uuid.uuid4()))

    assert services.poll_export_job(job_id=job.pk) is False

    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert job.error_code == "404"
    assert "Covage does not know this export" in job.error_text


def test_wrong_credentials_are_explained_and_free_the_window(sandbox, settings):
    settings.COVAGE_PASSWORD = "not-the-password"
    job = services.request_export(user=sales_user())

    assert services.start_export_job(job_id=job.pk) is None

    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert job.error_code == "401"
    assert "Covage refused the portal's credentials" in job.error_text
    assert services.next_export_allowed_at(account="demo") is None


def test_redelivered_start_and_poll_do_not_repeat_covage_calls(sandbox):
    job = services.request_export(user=sales_user())
    first = services.start_export_job(job_id=job.pk)
    again = services.start_export_job(job_id=job.pk)

    assert first is not None and again is not None and again.task == "poll"
    assert export_posts() == 1
    assert services.poll_export_job(job_id=job.pk) is True
    assert services.poll_export_job(job_id=job.pk) is True
    assert downloads() == 1


def test_still_running_export_keeps_polling(sandbox):
    sandbox(EXPORT_DELAY=600)
    job = services.request_export(user=sales_user())
    services.start_export_job(job_id=job.pk)

    assert services.poll_export_job(job_id=job.pk) is None
    assert services.poll_export_job(job_id=job.pk) is None

    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.poll_count == 2
    assert job.started_at is not None and job.stopped_at is None
    # Out of turn (a duplicate poll chain): no call to Covage.
    calls = SandboxCall.objects.count()
    assert services.poll_export_job(job_id=job.pk, expected_poll=1) is False
    assert SandboxCall.objects.count() == calls


def test_gives_up_after_the_maximum_number_of_polls(sandbox, settings):
    sandbox(EXPORT_DELAY=600)
    settings.EXPORT_MAX_POLLS = 2
    job = services.request_export(user=sales_user())
    services.start_export_job(job_id=job.pk)

    assert run_to_end(job, max_polls=5) is False

    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and job.error_code == "too_long"
    assert "stopped waiting" in job.error_text


def test_download_streams_with_bounded_memory(sandbox):
    size = 20 * 1024 * 1024
    sandbox(EXPORT_MIN_BYTES=size)
    job = services.request_export(user=sales_user())
    services.start_export_job(job_id=job.pk)

    tracemalloc.start()
    try:
        assert services.poll_export_job(job_id=job.pk) is True
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    job.refresh_from_db()
    assert job.size_bytes >= size
    assert job.row_count > 10_000
    # The whole file in memory would be 20 MB; the stream holds a few chunks at a time
    # (the live server thread's allocations are in this figure too).
    print(f"download of {job.size_bytes / 1e6:.1f} MB: tracemalloc peak {peak / 1e6:.2f} MB")
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_purge_removes_expired_files_and_keeps_the_history():
    expired = finished_job()
    expired.expires_at = timezone.now() - timedelta(minutes=1)
    expired.save()
    fresh = finished_job()
    expired_name = expired.file.name

    assert services.purge_expired_exports() == 1

    expired.refresh_from_db()
    assert not expired.file and not default_storage.exists(expired_name)
    assert not expired.is_downloadable
    assert default_storage.exists(fresh.file.name)
    assert services.purge_expired_exports() == 0


def test_admin_retry_asks_covage_again_after_a_failure(sandbox, sent_tasks):
    sandbox(EXPORT_FAILURE_RATE=1.0)
    job = services.request_export(user=sales_user())
    run_to_end(job)
    sandbox(EXPORT_FAILURE_RATE=0.0)
    sent_tasks.clear()

    services.retry_export_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.QUEUED and job.task_id == "" and job.error == ""
    # The window of the failed attempt is still running: the retry waits for it.
    [start] = sent_tasks.named("start")
    assert start.args == (job.pk,) and 250 < start.countdown <= 300
    assert job.not_before is not None


def test_admin_retry_resumes_polling_when_covage_still_has_the_task(sandbox, settings):
    sandbox(EXPORT_DELAY=600)
    settings.EXPORT_MAX_POLLS = 1
    job = services.request_export(user=sales_user())
    run_to_end(job, max_polls=3)
    job.refresh_from_db()
    assert job.error_code == "too_long"
    settings.EXPORT_MAX_POLLS = 100
    sandbox(EXPORT_DELAY=0)

    services.retry_export_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.RUNNING and job.task_id
    assert services.poll_export_job(job_id=job.pk) is True
    assert export_posts() == 1


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ('a;b\r\n1;"line one\nline two"\r\n2;é\r\n', 2),
        ('a;b\r\n1;"say ""hi""\nthere"\r\n2;x', 2),
        ("a;b\r\n", 0),
        ("", 0),
    ],
)
def test_row_count_ignores_line_breaks_inside_quoted_fields(tmp_path, text, rows):
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    assert services.count_csv_rows(path) == rows
    # Fed in tiny chunks, as the download does: the quote state carries across chunks.
    counter = services.CsvRowCounter()
    data = text.encode()
    for start in range(0, len(data), 3):
        counter.feed(data[start : start + 3])
    assert counter.data_rows == rows


def test_poll_backoff_grows_to_its_cap_below_the_visibility_timeout(settings):
    settings.EXPORT_POLL_BACKOFF = {"FIRST": 2.0, "FACTOR": 2.0, "MAX": 60.0}
    delays = [conf.poll_delay(n) for n in range(10)]
    assert delays[:6] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0]
    assert max(delays) == 60.0
    settings.EXPORT_POLL_BACKOFF = {"FIRST": 2.0, "FACTOR": 2.0, "MAX": 99_999.0}
    assert conf.poll_delay(50) < 3600


def test_expired_job_file_is_not_downloadable():
    job = finished_job()
    assert job.is_downloadable
    job.expires_at = timezone.now()
    assert not job.is_downloadable


def test_purge_removes_half_written_downloads_of_dead_workers(settings):
    folder = Path(settings.MEDIA_ROOT) / "exports" / "partial"
    folder.mkdir(parents=True)
    abandoned, running = folder / "export-1-a.part", folder / "export-2-b.part"
    abandoned.write_bytes(b"half;a;file")
    running.write_bytes(b"still;coming")
    an_hour_ago = time.time() - 3600
    os.utime(abandoned, (an_hour_ago, an_hour_ago))

    assert services.purge_expired_exports() == 1
    assert not abandoned.exists() and running.exists()
