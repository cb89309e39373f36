"""A real Celery worker for tests: a separate OS process on the real broker.

`RunningWorker` starts `celery -A portal worker --pool prefork` with its own queue name, on
Redis when REDIS_URL is set (else on the file-system broker of the settings, in a temporary
folder), pointed at the test database (PostgreSQL, or the SQLite file of tests/conftest.py)
and at a live sandbox. The test process is switched to the same broker and
queue, with eager mode off, so that `transaction.on_commit(... .delay())` reaches the worker.

Imported as `workers.worker_support` (tests/ is on sys.path through tests/conftest.py), so the
benchmarks in tests/perf use the same harness.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

TOKEN_PATH = "/auth/realms/covage/protocol/openid-connect/token"
BASE_DIR = Path(settings.BASE_DIR)
CELERY_BIN = Path(sys.executable).with_name("celery")
READY_TIMEOUT = 60.0


def shared_database_or_skip() -> None:
    """The worker is another process: it must be able to open the test database. The
    PostgreSQL test database and the SQLite file of tests/conftest.py are; an in-memory SQLite
    database (a TEST NAME of ":memory:") is not."""
    import pytest

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "real-worker tests need a test database that another process can open, not an "
            "in-memory SQLite one: leave DATABASES['default']['TEST']['NAME'] unset (a file) "
            "or set DATABASE_URL=postgres://…"
        )


def server_database_or_skip() -> None:
    """The confirmation benchmark measures the worker and the gunicorn sandbox on PostgreSQL."""
    import pytest

    if connection.vendor == "sqlite":
        pytest.skip("the confirmation benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")


def test_database_url() -> str:
    """DATABASE_URL of the test database, for the worker and sandbox processes: the SQLite
    file, or the PostgreSQL database (pytest-django renamed NAME to test_…)."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(params['NAME']).resolve()}"
    user = quote(params.get("USER") or "", safe="")
    password = quote(params.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(params['NAME'], safe='')}"


def wait_until(
    predicate: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    explain: Callable[[], str] | None = None,
) -> Any:
    """Poll `predicate` until it is truthy; fail with `what` (and `explain()`) after `timeout`."""
    import pytest

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            details = explain() if explain else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{details}")
        time.sleep(interval)


def _child_pids(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)


class RunningWorker:
    """One `celery worker` process (and its prefork pool) for one test.

    Use as a context manager; `log_text()` returns what it wrote, `pool_pids()` its pool
    children, `kill_pool()` SIGKILLs them (the main process re-delivers their tasks and
    starts new children).
    """

    def __init__(
        self,
        *,
        api_url: str,
        concurrency: int = 4,
        workdir: Path,
        env: dict[str, str] | None = None,
        loglevel: str = "INFO",
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.concurrency = concurrency
        self.workdir = Path(workdir)
        self.extra_env = env or {}
        self.loglevel = loglevel
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        self.log_path = self.workdir / f"worker-{self.queue}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._saved_conf: dict[str, Any] = {}
        self.kills = 0

    # --- broker -------------------------------------------------------------------------------

    def _broker(self) -> tuple[str, dict[str, Any]]:
        if settings.REDIS_URL:
            return settings.REDIS_URL, dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        # The worker's own settings give the same folders (PORTAL_VAR_DIR=workdir/var). The
        # exchange tables live in the control folder: both processes must read the same one.
        folder = self.workdir / "var" / "celery"
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return "filesystem://", {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }

    def _point_this_process(self, broker_url: str, options: dict[str, Any]) -> None:
        from portal.celery import app

        names = ("broker_url", "broker_transport_options", "task_default_queue")
        self._saved_conf = {name: app.conf[name] for name in names}
        self._saved_conf["task_always_eager"] = app.conf.task_always_eager
        app.conf.broker_url = broker_url
        app.conf.broker_transport_options = options
        app.conf.task_default_queue = self.queue
        app.conf.task_always_eager = False
        self._forget_connections()

    def _restore_this_process(self) -> None:
        from portal.celery import app

        for name, value in self._saved_conf.items():
            app.conf[name] = value
        self._forget_connections()

    @staticmethod
    def _forget_connections() -> None:
        """Queues, router and producer pools are cached on first use: rebuild them."""
        from portal.celery import app

        # Not closed: kombu's global pools hand the same pool out again for the same URL.
        app._pool = None
        app.__dict__.pop("amqp", None)

    @contextlib.contextmanager
    def tasks_inline(self) -> Iterator[None]:
        """Run the tasks queued meanwhile in this process (e.g. the syncs of sessions being
        built), so that the worker only gets what comes after."""
        from portal.celery import app

        app.conf.task_always_eager = True
        try:
            yield
        finally:
            app.conf.task_always_eager = False

    def purge(self) -> int:
        """Drop every message waiting in this worker's queue (e.g. syncs queued while building
        a benchmark's sessions)."""
        from portal.celery import app

        with app.connection_for_write() as conn:
            channel = conn.default_channel
            try:
                return channel.queue_purge(self.queue) or 0
            except Exception:
                return 0

    # --- process ------------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CELERY_", "COVAGE_", "PYTEST_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            DATABASE_URL=test_database_url(),
            CELERY_QUEUE=self.queue,
            PORTAL_VAR_DIR=str(self.workdir / "var"),
            # Its own token cache keys: the test process flushes and rewrites its own.
            CACHE_KEY_PREFIX=f"worker-{self.queue}",
            COVAGE_API_URL=self.api_url,
            COVAGE_TOKEN_URL=self.api_url + TOKEN_PATH,
            COVAGE_USERNAME="demo",
            COVAGE_PASSWORD="demo",
            COVAGE_CONNECT_TIMEOUT="1",
            COVAGE_READ_TIMEOUT="2",
            COVAGE_MAX_RETRIES="4",
            COVAGE_BACKOFF_BASE="0.05",
            COVAGE_BACKOFF_MAX="0.5",
            COVAGE_MAX_RETRY_AFTER="5",
            PYTHONUNBUFFERED="1",
            LOG_LEVEL=self.loglevel,
        )
        env.update(self.extra_env)
        return env

    def __enter__(self) -> RunningWorker:
        self.connect()
        self.start()
        return self

    def connect(self) -> None:
        """Point this process at the worker's broker and queue, eager mode off (messages
        queued before `start()` wait in the queue)."""
        if self._saved_conf:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        broker_url, options = self._broker()
        self._point_this_process(broker_url, options)

    def start(self) -> None:
        self.connect()
        argv = [
            str(CELERY_BIN),
            "-A",
            "portal",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(self.concurrency),
            "--queues",
            self.queue,
            "--hostname",
            f"{self.queue}@%h",
            "--loglevel",
            self.loglevel,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        log = self.log_path.open("wb")
        try:
            # A session of its own: teardown kills the whole process group.
            self.process = subprocess.Popen(
                argv,
                cwd=BASE_DIR,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        try:
            wait_until(
                self._ready,
                timeout=READY_TIMEOUT,
                what="the Celery worker to be ready",
                interval=0.2,
                explain=self.log_tail,
            )
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            import pytest

            pytest.fail(
                f"the Celery worker exited with {self.process.returncode}\n{self.log_tail()}"
            )
        return b" ready." in self.log_path.read_bytes() and len(self.pool_pids()) > 0

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            pgid = os.getpgid(process.pid)
            # Cold shutdown: the test is over, nothing the worker holds is worth waiting for
            # (unacknowledged messages are in a queue no one else reads).
            os.killpg(pgid, signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            process.wait(timeout=10)
        elif process is not None:
            # The main process is gone: make sure no orphaned pool child survives it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        if self._saved_conf:
            self._restore_this_process()
            self._saved_conf = {}
        self.process = None

    # --- inspection and faults ----------------------------------------------------------------

    def pool_pids(self) -> list[int]:
        if self.process is None:
            return []
        return _child_pids(self.process.pid)

    def kill_pool(self, pids: Iterable[int] | None = None) -> list[int]:
        """SIGKILL pool children (all of them by default); returns those killed."""
        killed = []
        for pid in list(pids) if pids is not None else self.pool_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.append(pid)
        self.kills += len(killed)
        return killed

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 80) -> str:
        text = self.log_text().splitlines()[-lines:]
        return f"--- worker log ({self.log_path}), last {len(text)} lines ---\n" + "\n".join(text)


def sandbox_process_env(workdir: Path, knobs: dict[str, Any]) -> dict[str, str]:
    """Environment of a `manage.py runsandbox` process on the test database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "COVAGE_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=test_database_url(),
        PORTAL_VAR_DIR=str(workdir / "sandbox-var"),
        CACHE_KEY_PREFIX=f"sandbox-{uuid.uuid4().hex[:8]}",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    names = {
        "ACCOUNTS": "COVAGE_SANDBOX_ACCOUNTS",
        "LATENCY_MS": "COVAGE_SANDBOX_LATENCY_MS",
        "CONFIRM_DELAY": "COVAGE_SANDBOX_CONFIRM_DELAY",
        "ERROR_RATE": "COVAGE_SANDBOX_ERROR_RATE",
        "TIMEOUT_RATE": "COVAGE_SANDBOX_TIMEOUT_RATE",
        "RATE_LIMIT_RATE": "COVAGE_SANDBOX_429_RATE",
        "SEED": "COVAGE_SANDBOX_SEED",
    }
    for name, value in knobs.items():
        env[names[name]] = str(value)
    return env
