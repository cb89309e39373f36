"""Fixtures of the real-worker tests: a `celery worker` process on the real broker.

They run on both stacks: `make run`'s own (the SQLite test database, a file that
tests/conftest.py puts in the run's temporary folder, and the file-system broker in the test's
temporary folder) and CI's (PostgreSQL with DATABASE_URL, Redis with REDIS_URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from workers.worker_support import RunningWorker, shared_database_or_skip

from covage.client import reset_client
from covage.sandbox import faults


@pytest.fixture
def worker_sandbox(sandbox_url: str, settings: Any) -> str:
    """The live sandbox with its faults replayed from a fixed seed (knobs set per test)."""
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "SEED": "worker-faults"}
    # The test process' own client (eager syncs while building sessions) stays patient.
    settings.COVAGE_READ_TIMEOUT = 5.0
    settings.COVAGE_BACKOFF_BASE = 0.05
    settings.COVAGE_BACKOFF_MAX = 0.5
    reset_client()
    faults.reset_rng()
    yield sandbox_url
    reset_client()


@pytest.fixture
def celery_worker_process(
    transactional_db: None,
    worker_sandbox: str,
    tmp_path: Any,
) -> Iterator[RunningWorker]:
    """A prefork worker (4 slots) in its own process and queue; eager mode is off meanwhile.

    Its log is printed when the test fails; it is always stopped, children included.
    """
    shared_database_or_skip()
    with RunningWorker(api_url=worker_sandbox, concurrency=4, workdir=tmp_path) as worker:
        yield worker


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed worker test shows the end of the worker's log next to its traceback."""
    report = yield
    worker = getattr(item, "funcargs", {}).get("celery_worker_process")
    if report.failed and isinstance(worker, RunningWorker):
        report.sections.append(("celery worker log", worker.log_tail(300)))
    return report
