"""Benchmark (make bench): download a large export from the sandbox.

Prints the peak memory growth of the downloading process and the speed of the portal's
download (stream to storage, count the rows, move into place) against a raw ``requests``
copy of the same file. EXPORT_BENCH_MB sets the size (default 200).

A stored export queues its reconciliation (reconciliation.apps: a worker settles from every
row and compares it with the portal's records), which the tests' eager Celery would run
inside the download's measure: it is measured apart, on the same file, without tracemalloc.

The sandbox answers from a live server thread of this process, so its own buffers are in
the figures too; both runs pay for them alike.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from factories import sales_user

from covage.client import reset_client
from exports import services
from exports.models import ExportJob
from exports.signals import export_stored
from reconciliation import services as reconciliation
from reconciliation.apps import _export_stored

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024
SIZE_MB = int(os.environ.get("EXPORT_BENCH_MB", "200"))
RECONCILIATION_RECEIVER = "reconciliation.export_stored"  # reconciliation.apps


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    """Reset VmHWM (Linux): afterwards it is the peak resident size from now on."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class Measure:
    def __enter__(self) -> Measure:
        self.hwm_reset = _reset_peak_rss()
        self.rss_before = _status_kb("VmRSS")
        tracemalloc.start()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        _, self.traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.rss_growth = (_status_kb("VmHWM") - self.rss_before) * 1024

    def line(self, label: str, size: int) -> str:
        rss = f"{self.rss_growth / MB:7.1f} MB" if self.hwm_reset else "    n/a"
        return (
            f"{label:<34} {size / MB:7.1f} MB in {self.seconds:6.2f} s = "
            f"{size / MB / self.seconds:7.1f} MB/s | peak RSS growth {rss} | "
            f"tracemalloc peak {self.traced_peak / MB:6.2f} MB"
        )


@contextlib.contextmanager
def without_reconciliation() -> Iterator[None]:
    """The download alone: the reconciliation a stored export queues is not started."""
    export_stored.disconnect(dispatch_uid=RECONCILIATION_RECEIVER)
    try:
        yield
    finally:
        export_stored.connect(_export_stored, dispatch_uid=RECONCILIATION_RECEIVER)


def _token(settings: Any) -> str:
    response = requests.post(
        settings.COVAGE_TOKEN_URL,
        data={
            "grant_type": "password",
            "client_id": settings.COVAGE_CLIENT_ID,
            "username": settings.COVAGE_USERNAME,
            "password": settings.COVAGE_PASSWORD,
        },
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def test_download_200_mb_export(sandbox_url, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "EXPORT_MIN_BYTES": SIZE_MB * MB}
    reset_client()
    # Created directly (not request_export): nothing is sent to a broker during the bench.
    job = ExportJob.objects.create(requested_by=sales_user(), covage_account="demo")
    assert services.start_export_job(job_id=job.pk) is not None
    job.refresh_from_db()

    with without_reconciliation(), Measure() as portal:
        assert services.poll_export_job(job_id=job.pk) is True
    job.refresh_from_db()
    started = time.perf_counter()
    summary = reconciliation.reconcile_export(job_id=job.pk)
    reconciled = time.perf_counter() - started

    url = f"{sandbox_url}/api/v1/product_order/export/{job.task_id}/download/"
    headers = {"Authorization": f"Bearer {_token(settings)}"}
    with (
        tempfile.NamedTemporaryFile() as copy,
        Measure() as raw,
        requests.get(url, headers=headers, stream=True, timeout=(5, 60)) as response,
    ):
        response.raise_for_status()
        raw_size = 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            copy.write(chunk)
            raw_size += len(chunk)

    print()
    print(portal.line("portal (stream, count rows, store)", job.size_bytes))
    print(raw.line("raw requests copy", raw_size))
    print(
        f"rows counted: {job.row_count}; speed ratio portal/raw: "
        f"{(job.size_bytes / portal.seconds) / (raw_size / raw.seconds):.2f}"
    )
    print(
        f"reconciliation of that export (a worker's task, measured apart): {reconciled:.1f} s "
        f"for {summary.rows:,} rows = {summary.rows / reconciled:,.0f} rows/s"
    )
    reset_client()

    assert job.size_bytes == raw_size >= SIZE_MB * MB
    # Streaming: memory must not grow with the file (the whole file would be SIZE_MB).
    assert portal.traced_peak < 16 * MB
