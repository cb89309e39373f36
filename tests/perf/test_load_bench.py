"""Benchmark (make bench; issue "Speed under load", item 3): the web portal under load.

Salespeople simulated by Locust (tests/perf/locustfile.py, headless, as a subprocess) log in,
list their sessions, open one, save steps of its lines, run the check and poll the lines
table as htmx does, against gunicorn started as the Procfile's `web` line starts it
(portal/gunicorn.conf.py: gthread, one process per core, 4 threads each; only the port
differs) on the PostgreSQL test database, with Redis as cache and broker.

Seeded through the services: LOAD_BENCH_SALESPEOPLE (60) sales users, each with
LOAD_BENCH_SESSIONS (5) draft sessions of LOAD_BENCH_LINES (5) complete lines. Nothing reaches
Covage: pages never call it, the syncs that saves queue wait in a Redis queue of this run that
no worker reads (purged at the end), and gunicorn's COVAGE_API_URL is a port nobody listens on.

Runs, each printed one line per page (requests per second, p50, p95, p99, errors) and a
total line:
- 20 and then 50 users, 1 to 5 s of thinking time between actions, LOAD_BENCH_SECONDS (60) each;
- saturation, no thinking time, LOAD_BENCH_SATURATION_USERS (16) users for
  LOAD_BENCH_SATURATION_SECONDS (20): the sessions list alone, then the login page alone (the
  trivial view of the issue's own measurement: a small form rendered through the same
  middleware and templates), then /healthz/ alone (no work at all: the floor); the ratios of
  the list's throughput to each, the goal read on the login page's.

Goals (printed with PASS/MISS, not asserted): 0 errors, p95 under 300 ms at 20 users (worst
page; the logins, all at the start, are shown but not counted), a saturation ratio of at least
0.5. The bench fails only when the harness is broken: a login refused, or a page whose
requests all failed. Locust runs on the same machine and takes CPU from gunicorn: its share
is printed with each run.

Each run is measured for its duration from the moment every user has started and logged in:
the users wait for each other after their login, the locustfile resets its statistics, then
they start working (the logins are printed apart, as the warm-up).

Other knobs: LOAD_BENCH_LOADS ("20,50"; the goals read the first), LOAD_BENCH_SALESPEOPLE,
LOAD_BENCH_SESSIONS, LOAD_BENCH_LINES, LOAD_BENCH_SATURATION_USERS,
LOAD_BENCH_WARMUP_MAX_SECONDS (120: how long all the logins may take; longer fails the run).
Every file of a run (Locust's CSVs and logs, gunicorn's log, users.json) is in pytest's
temporary folder, whose path is printed.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import resource
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from factories import PASSWORD, sales_user
from order_data import fill_line
from workers import worker_support
from workers.worker_support import TOKEN_PATH, RunningWorker, server_database_or_skip

from orders import services
from portal.roles import SALES

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
BIN = Path(sys.executable).parent

SALESPEOPLE = int(os.environ.get("LOAD_BENCH_SALESPEOPLE", "60"))
SESSIONS = int(os.environ.get("LOAD_BENCH_SESSIONS", "5"))
LINES = int(os.environ.get("LOAD_BENCH_LINES", "5"))
SECONDS = int(os.environ.get("LOAD_BENCH_SECONDS", "60"))
SATURATION_SECONDS = int(os.environ.get("LOAD_BENCH_SATURATION_SECONDS", "20"))
SATURATION_USERS = int(os.environ.get("LOAD_BENCH_SATURATION_USERS", "16"))
# The loads with thinking time (the goals are those of 20 users: the first one).
LOADS = tuple(int(n) for n in os.environ.get("LOAD_BENCH_LOADS", "20,50").split(","))

# How long all users may take to log in before the measured part starts anyway.
WARMUP_MAX_SECONDS = int(os.environ.get("LOAD_BENCH_WARMUP_MAX_SECONDS", "120"))

P95_GOAL_MS = 300
RATIO_GOAL = 0.5
# Logins happen during the warm-up (every user at once, at the start): shown, not in the goal.
LOGIN_PAGES = ("login page", "login")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# --- Seeding --------------------------------------------------------------------------------------


def seed(users_file: Path) -> dict[str, Any]:
    """Sales users with draft sessions of complete lines; their names, password and ids go to
    `users_file` for Locust. One password hash for all (hashing 60 times costs a minute)."""
    first = sales_user(username="load-sales-000")
    group = Group.objects.get(name=SALES)
    users = [first]
    for index in range(1, SALESPEOPLE):
        user = get_user_model().objects.create(
            username=f"load-sales-{index:03d}",
            password=first.password,
            first_name="Vendeur",
            last_name=f"N°{index}",
            email=f"load-sales-{index:03d}@example.com",
        )
        user.groups.add(group)
        users.append(user)
    accounts = []
    for number, user in enumerate(users):
        sessions = []
        for index in range(SESSIONS):
            session = services.create_session(user=user, project_id=f"PRJ-{number:03d}-{index}")
            line = fill_line(user, session, end_customer_name=f"Client {number}-{index}")
            for _ in range(LINES - 1):
                services.duplicate_line(user=user, line=line)
            lines = session.lines.filter(deleted_at__isnull=True).order_by("position")
            sessions.append({"pk": session.pk, "lines": list(lines.values_list("pk", flat=True))})
        accounts.append({"username": user.username, "sessions": sessions})
    data = {"password": PASSWORD, "users": accounts}
    users_file.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return data


# --- gunicorn as the Procfile starts it -----------------------------------------------------------


def procfile_web_argv(port: int) -> list[str]:
    """The Procfile's `web` command, with this venv's gunicorn and the given port."""
    for raw in (BASE_DIR / "Procfile").read_text().splitlines():
        name, _, command = raw.partition(":")
        if name.strip() == "web":
            break
    else:
        pytest.fail("the Procfile has no `web` line")
    argv = shlex.split(command)
    argv[0] = str(BIN / Path(argv[0]).name)
    bind = f"127.0.0.1:{port}"
    out: list[str] = []
    skip = False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg in ("--bind", "-b"):
            out += [arg, bind]
            skip = index + 1 < len(argv)
        elif arg.startswith("--bind="):
            out.append(f"--bind={bind}")
        else:
            out.append(arg)
    if bind not in " ".join(out):
        out += ["--bind", bind]
    return out


def _gunicorn_help(executable: str) -> str:
    completed = subprocess.run(
        [executable, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    return completed.stdout


class Gunicorn:
    def __init__(self, workdir: Path, queue: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = procfile_web_argv(self.port)
        # Gunicorn 27 opens a control socket at one path per user by default: each bench
        # server gets its own, so that parallel runs do not take each other's.
        self.extra: list[str] = []
        if "--control-socket" in _gunicorn_help(self.argv[0]):
            self.extra = ["--control-socket", str(workdir / "gunicorn.ctl")]
        self.log_path = workdir / "gunicorn.log"
        nobody = f"http://127.0.0.1:{_free_port()}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CELERY_", "COVAGE_", "PYTEST_", "LOAD_"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            DATABASE_URL=worker_support.test_database_url(),
            REDIS_URL=settings.REDIS_URL,
            # The syncs that step saves queue wait here; no worker reads this queue.
            CELERY_QUEUE=queue,
            CACHE_KEY_PREFIX=f"load-{queue}",
            PORTAL_VAR_DIR=str(workdir / "var"),
            # Pages never call Covage; if one did, it would find nobody there.
            COVAGE_API_URL=nobody,
            COVAGE_TOKEN_URL=nobody + TOKEN_PATH,
            COVAGE_CONNECT_TIMEOUT="1",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )

    def __enter__(self) -> Gunicorn:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*self.argv, *self.extra],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"gunicorn did not answer /healthz/\n{self.log_tail()}")
            time.sleep(0.2)
        return self

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz/", timeout=2) as response:
                return response.status == 200 and response.read() == b"ok"
        except OSError:
            return False

    def cpu_seconds(self) -> float:
        """CPU time of gunicorn's master and worker processes so far."""
        pids = [self.process.pid, *worker_support._child_pids(self.process.pid)]
        return sum(_process_cpu(pid) for pid in pids)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- gunicorn log ({self.log_path}) ---\n" + "\n".join(text)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- Locust ---------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    requests: int
    failures: int
    rps: float | None
    p50: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def from_csv(cls, row: dict[str, str]) -> Row:
        def number(key: str) -> float | None:
            try:
                return float(row.get(key, ""))
            except ValueError:
                return None

        return cls(
            name=row["Name"],
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            rps=number("Requests/s") or 0.0,
            p50=number("50%"),
            p95=number("95%"),
            p99=number("99%"),
        )

    @classmethod
    def from_warmup(cls, name: str, page: dict[str, Any]) -> Row:
        return cls(
            name=name,
            requests=int(page["requests"]),
            failures=int(page["failures"]),
            rps=None,
            p50=page.get("p50"),
            p95=page.get("p95"),
            p99=page.get("p99"),
        )

    def line(self) -> str:
        def ms(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.0f}ms"

        rps = "" if self.rps is None else f"rps={self.rps:.1f} "
        return (
            f"{rps}p50={ms(self.p50)} p95={ms(self.p95)} p99={ms(self.p99)} "
            f"errors={self.failures} (requests={self.requests})"
        )


@dataclass
class Run:
    label: str
    pages: list[Row]
    total: Row
    failures: list[dict[str, Any]]
    # What happened before every user was logged in (the statistics were reset then).
    warmup: dict[str, Any] | None
    warmup_rows: list[Row]
    measured_seconds: float
    locust_cpu: float
    gunicorn_cpu: float
    warnings: list[str]
    # Requests sent again after their connection closed without an answer, per page.
    resent: dict[str, int]

    def page(self, name: str) -> Row | None:
        return next((row for row in self.pages if row.name == name and row.requests), None)


def _process_cpu(pid: int) -> float:
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def run_locust(
    label: str,
    *,
    server: Gunicorn,
    workdir: Path,
    users_file: Path,
    users: int,
    seconds: int,
    think: str,
    tasks: str,
) -> Run:
    """One headless Locust run: `users` users, spawned in about 2 s, measured for `seconds`
    once all of them have logged in (the locustfile resets its statistics then)."""
    prefix = workdir / label.replace(" ", "-")
    warmup_path = Path(f"{prefix}_warmup.json")
    resent_path = Path(f"{prefix}_resent.json")
    argv = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(max(1, users // 2)),
        # A cap: the locustfile stops `seconds` after the warm-up.
        "-t",
        f"{seconds + WARMUP_MAX_SECONDS}s",
        "--stop-timeout",
        "5",
        "--host",
        server.url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(
        LOAD_USERS_FILE=str(users_file),
        LOAD_THINK_TIME=think,
        LOAD_TASKS=tasks,
        LOAD_MEASURE_SECONDS=str(seconds),
        LOAD_WARMUP_FILE=str(warmup_path),
        LOAD_RESENT_FILE=str(resent_path),
    )
    log_path = prefix.with_suffix(".log")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU and clock at the end of the warm-up (or at the start, if it never ends).
    mark = (time.monotonic(), server.cpu_seconds(), 0.0)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + seconds + WARMUP_MAX_SECONDS + 120
    warmed = False
    while process.poll() is None:
        if not warmed and warmup_path.exists():
            warmed = True
            mark = (time.monotonic(), server.cpu_seconds(), _process_cpu(process.pid))
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"locust ({label}) did not stop\n{log_path.read_text()[-4000:]}")
        time.sleep(0.1)
    ended = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    log_text = log_path.read_text(errors="replace")
    stats_path = Path(f"{prefix}_stats.csv")
    # Exit code 1 only says that some requests failed; anything else is a crash.
    if process.returncode not in (0, 1) or not stats_path.exists():
        pytest.fail(
            f"locust ({label}) exited with {process.returncode}\n{log_text[-4000:]}\n"
            f"{server.log_tail()}"
        )
    with stats_path.open(newline="") as handle:
        rows = [Row.from_csv(row) for row in csv.DictReader(handle)]
    failures_path = Path(f"{prefix}_failures.csv")
    failures: list[dict[str, Any]] = []
    if failures_path.exists():
        with failures_path.open(newline="") as handle:
            failures = list(csv.DictReader(handle))
    total = next((row for row in rows if row.name == "Aggregated"), None)
    if total is None:
        pytest.fail(f"locust ({label}) wrote no totals\n{log_text[-4000:]}")
    warmup = json.loads(warmup_path.read_text()) if warmup_path.exists() else None
    warmup_rows = []
    if warmup:
        warmup_rows = [Row.from_warmup(name, page) for name, page in warmup["pages"].items()]
        # The warm-up's errors, in the failures CSV's shape.
        failures += [
            {
                "Method": error["method"],
                "Name": f"{error['name']} (warm-up)",
                "Error": error["error"],
                "Occurrences": error["occurrences"],
            }
            for error in warmup["errors"]
        ]
    warnings = [line for line in log_text.splitlines() if "CPU usage" in line][:1]
    resent = json.loads(resent_path.read_text()) if resent_path.exists() else {}
    return Run(
        label=label,
        pages=[row for row in rows if row.name != "Aggregated" and row.requests],
        total=total,
        failures=failures,
        warmup=warmup,
        warmup_rows=warmup_rows,
        measured_seconds=ended - mark[0],
        locust_cpu=locust_cpu - mark[2],
        gunicorn_cpu=server.cpu_seconds() - mark[1],
        warnings=warnings,
        resent=resent,
    )


def report(run: Run) -> None:
    if run.warmup is None:
        print(f"load {run.label}: the warm-up never ended: the figures below are the logins'")
    else:
        logged = "" if "login" not in {row.name for row in run.warmup_rows} else " and logged in"
        print(
            f"load {run.label}: warm-up {run.warmup['seconds']:.1f} s until all "
            f"{run.warmup['users']} users had started{logged}; measured from then on"
        )
        for row in sorted(run.warmup_rows, key=lambda row: row.name):
            print(f"load {run.label}: warm-up {row.name} {row.line()}")
    for row in sorted(run.pages, key=lambda row: row.name):
        print(f"load {run.label}: {row.name} {row.line()}")
    print(f"load {run.label}: total {run.total.line()}")
    seconds = max(run.measured_seconds, 0.001)
    print(
        f"load {run.label}: CPU over the {seconds:.0f} s measured: gunicorn "
        f"{run.gunicorn_cpu:.1f} s ({run.gunicorn_cpu / seconds:.0%} of a core), locust "
        f"{run.locust_cpu:.1f} s ({run.locust_cpu / seconds:.0%} of a core)"
    )
    if run.resent:
        pages = ", ".join(f"{name} {count}" for name, count in sorted(run.resent.items()))
        print(
            f"load {run.label}: resent once after the server closed the connection without "
            f"an answer (as a browser does; not errors): {sum(run.resent.values())} ({pages})"
        )
    for warning in run.warnings:
        print(f"load {run.label}: locust warned: {warning.strip()}")
    for failure in sorted(run.failures, key=lambda row: -int(row.get("Occurrences", 0)))[:8]:
        print(
            f"load {run.label}: error x{failure.get('Occurrences')}: {failure.get('Method')} "
            f"{failure.get('Name')}: {str(failure.get('Error', ''))[:200]}"
        )


def broken_harness(run: Run) -> list[str]:
    """What says the harness, not the portal, is broken: nothing measured, a login refused,
    or a page whose requests all failed."""
    problems = []
    if run.warmup is None:
        problems.append(
            f"{run.label}: not every user got past the login within {WARMUP_MAX_SECONDS} s "
            "(LOAD_BENCH_WARMUP_MAX_SECONDS): nothing was measured"
        )
    if run.total.requests == 0:
        problems.append(f"{run.label}: no request was measured")
    for row in [*run.warmup_rows, *run.pages]:
        if row.name == "login" and row.failures:
            problems.append(f"{run.label}: {row.failures} of {row.requests} logins refused")
        elif row.requests and row.failures == row.requests:
            problems.append(f"{run.label}: all {row.requests} requests of {row.name!r} failed")
    return problems


def _stop_if_broken(run: Run) -> None:
    """A broken harness must not look like a result: stop at the first broken run."""
    if problems := broken_harness(run):
        pytest.fail("the load harness is broken:\n" + "\n".join(problems))


def worst_p95(run: Run) -> Row:
    pages = [row for row in run.pages if row.name not in LOGIN_PAGES and row.p95 is not None]
    return max(pages, key=lambda row: row.p95 or 0)


# --- The benchmark --------------------------------------------------------------------------------


def test_load_bench(transactional_db: None, tmp_path: Path) -> None:
    server_database_or_skip()
    if not settings.REDIS_URL:
        pytest.skip("the load test runs with Redis (cache and broker): set REDIS_URL=redis://…")
    assert max(LOADS) <= SALESPEOPLE, "one account per simulated user"

    # Syncs queued by the seeding and by the saves go to a Redis queue of this run alone.
    queue = RunningWorker(api_url=f"http://127.0.0.1:{_free_port()}", workdir=tmp_path)
    queue.connect()
    try:
        started = time.perf_counter()
        users_file = tmp_path / "users.json"
        seed(users_file)
        seeded = time.perf_counter() - started
        queue.purge()
        with Gunicorn(tmp_path, queue.queue) as server:
            print(
                f"\n--- load test: {SALESPEOPLE} salespeople x {SESSIONS} sessions x {LINES} "
                f"lines (seeded in {seeded:.0f} s), {connection.vendor} "
                f"DATABASE_CONN_MAX_AGE={server.env.get('DATABASE_CONN_MAX_AGE', 'default')}, "
                f"{os.cpu_count()} CPUs ---\n"
                f"gunicorn (Procfile web): {shlex.join(server.argv)}"
                f"{' + ' + shlex.join(server.extra) if server.extra else ''}\n"
                f"locust: {SECONDS} s per load, {SATURATION_SECONDS} s per saturation run; "
                f"logs and CSVs in {tmp_path}"
            )
            runs = []
            for users in LOADS:
                run = run_locust(
                    f"{users} users",
                    server=server,
                    workdir=tmp_path,
                    users_file=users_file,
                    users=users,
                    seconds=SECONDS,
                    think="1-5",
                    tasks="day",
                )
                report(run)
                _stop_if_broken(run)
                runs.append(run)
            saturation = {}
            for tasks in ("sessions_list", "login_page", "healthz"):
                run = run_locust(
                    f"saturation {tasks}",
                    server=server,
                    workdir=tmp_path,
                    users_file=users_file,
                    users=SATURATION_USERS,
                    seconds=SATURATION_SECONDS,
                    think="0",
                    tasks=tasks,
                )
                report(run)
                _stop_if_broken(run)
                runs.append(run)
                saturation[tasks] = run
            server_errors = [
                line
                for line in server.log_path.read_text(errors="replace").splitlines()
                if any(word in line for word in ("Traceback", "[ERROR]", " ERROR ", "CRITICAL"))
            ]
    finally:
        queue.purge()
        queue.stop()

    def rps(tasks: str, page: str) -> float:
        row = saturation[tasks].page(page)
        return row.rps if row else 0.0

    list_rps = rps("sessions_list", "sessions list")
    login_rps = rps("login_page", "login page")
    health_rps = rps("healthz", "healthz")
    # The goal's trivial view is the login page, as in the issue's own measurement (a page
    # rendered through the same middleware and templates, without the database work);
    # /healthz/ (no middleware work at all) is printed as the floor.
    ratio = list_rps / login_rps if login_rps else 0.0
    floor = list_rps / health_rps if health_rps else 0.0
    print(
        f"load saturation: sessions list {list_rps:.1f} rps / login page {login_rps:.1f} rps "
        f"= ratio {ratio:.2f} (goal >= {RATIO_GOAL}: {_verdict(ratio >= RATIO_GOAL)}); "
        f"/ healthz {health_rps:.1f} rps = {floor:.2f}; "
        f"{SATURATION_USERS} users without thinking time"
    )
    at_20 = worst_p95(runs[0])
    first_load = runs[0].label
    errors = {
        run.label: run.total.failures + sum(row.failures for row in run.warmup_rows) for run in runs
    }
    total_errors = sum(errors.values())
    print(
        f"load test: p95 at {first_load} {at_20.p95:.0f} ms, worst page {at_20.name!r} "
        f"(goal < {P95_GOAL_MS} ms: {_verdict((at_20.p95 or 0) < P95_GOAL_MS)}); "
        f"errors {total_errors} ({', '.join(f'{k}: {v}' for k, v in errors.items())}; "
        f"goal 0: {_verdict(total_errors == 0)}); saturation ratio {ratio:.2f} "
        f"(goal >= {RATIO_GOAL}: {_verdict(ratio >= RATIO_GOAL)})"
    )
    if server_errors:
        print(f"load test: gunicorn logged {len(server_errors)} errors, first: {server_errors[0]}")
