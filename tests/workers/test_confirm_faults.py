"""Confirmations under faults, with a real worker process on the real broker (issue 4, item 5).

The sandbox (a live server thread of this process) injects 5xx, timeouts and 429s from a fixed
seed; the worker (`celery worker --pool prefork`, 4 slots) syncs, confirms and polls. Every
session must end final with exactly one successful confirm at the sandbox and no duplicate
session or line, also when pool children are SIGKILLed in the middle of a confirmation.

Both stacks (issue 8, item 6): `make run`'s (SQLite file, file-system broker) with nothing set,
CI's with DATABASE_URL (PostgreSQL) and REDIS_URL (Redis).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from factories import sales_user
from workers.session_support import (
    all_final,
    all_synced,
    build_sessions,
    confirm_all,
    confirm_calls,
    describe_sessions,
    duplicates_at_sandbox,
    session_ids,
    states_differ,
)
from workers.worker_support import RunningWorker, wait_until

from orders import services
from orders.models import OrderSession, SyncStatus

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FINAL_WAIT = 120.0  # seconds; every wait is bounded
TIMEOUT_SECONDS = 3.0  # the sandbox's late answers: past the worker's 2 s read timeout


@pytest.fixture
def user() -> Any:
    return sales_user()


def explain(worker: RunningWorker, ids: list[int]) -> Any:
    return lambda: describe_sessions(ids) + "\n" + worker.log_tail(60)


def check_exactly_once(sessions: list[OrderSession]) -> dict[str, int]:
    """Every session final and confirmed once at the sandbox, nothing duplicated; returns
    the totals of confirm calls by outcome (printed, for the report)."""
    totals = {"confirm_calls": 0, "confirm_200": 0}
    wrong = []
    for session in sessions:
        session.refresh_from_db()
        assert session.sync_status == SyncStatus.CONFIRMED, describe_sessions([session.pk])
        calls = confirm_calls(session)
        totals["confirm_calls"] += sum(calls.values())
        totals["confirm_200"] += calls[200]
        if calls[200] != 1:
            wrong.append(f"{session.external_id}: confirm calls by status {dict(calls)}")
    assert not wrong, "not exactly one successful confirm per session:\n" + "\n".join(wrong)
    assert duplicates_at_sandbox(sessions) == []
    assert states_differ(sessions) == []
    return totals


def test_a_batch_under_5xx_timeouts_and_429_is_confirmed_exactly_once(
    celery_worker_process: RunningWorker, settings: Any, user: Any
) -> None:
    worker = celery_worker_process
    settings.COVAGE_SANDBOX = {
        **settings.COVAGE_SANDBOX,
        "ERROR_RATE": 0.10,
        "TIMEOUT_RATE": 0.05,
        "TIMEOUT_SECONDS": TIMEOUT_SECONDS,
        "RATE_LIMIT_RATE": 0.05,
        "RATE_LIMIT_RETRY_AFTER": 1,
    }
    started = time.monotonic()
    # Built through the services with the worker doing every sync, under the same faults.
    sessions = build_sessions(user, sessions=8, lines=[2, 3])
    ids = session_ids(sessions)
    confirm_all(user, sessions)

    wait_until(
        lambda: all_final(ids),
        timeout=FINAL_WAIT,
        what="every session to reach a final Covage state",
        interval=0.25,
        explain=explain(worker, ids),
    )
    elapsed = time.monotonic() - started
    # A timed-out call is recorded by the sandbox when its late answer goes out.
    time.sleep(TIMEOUT_SECONDS + 0.5)

    totals = check_exactly_once(sessions)
    faults = _faults_served()
    print(
        f"\n{len(sessions)} sessions final in {elapsed:.1f} s; confirm calls {totals}; "
        f"faults served {faults}"
    )
    assert sum(faults.values()) > 0, "the sandbox injected no fault: the test proves nothing"


def _faults_served() -> dict[str, int]:
    from covage.sandbox.models import SandboxCall

    api = SandboxCall.objects.filter(path__startswith="/api/")
    return {
        "5xx": api.filter(status__gte=500).count(),
        "429": api.filter(status=429).count(),
        "calls": api.count(),
    }


def test_pool_children_killed_mid_confirmation_still_confirm_exactly_once(
    celery_worker_process: RunningWorker, settings: Any, user: Any
) -> None:
    """Each session's pool child is SIGKILLed while its PATCH /confirm/ is in flight (the
    first session's once more while it polls). The lines are synced beforehand in this
    process, so that the only work of the worker is the confirmations: a SIGKILL during a
    sync would leave that session's sync lease held for 5 minutes (see the report).

    No beat runs here, so a killed confirmation only finishes if the broker re-delivers its
    message (acks_late, reject on worker lost). Every child is killed, idle ones too: an idle
    child killed must not freeze the pool (it did on the file-system broker, see
    portal/broker.py)."""
    worker = celery_worker_process
    with worker.tasks_inline():
        sessions = build_sessions(user, sessions=3, lines=2)
    ids = session_ids(sessions)
    assert all_synced(ids), describe_sessions(ids)
    # Every call now takes 0.4 s: a PATCH /confirm/ is in flight when its child dies.
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "LATENCY_MS": 400}

    for index, session in enumerate(sessions):
        confirm_all(user, [session])
        wait_until(
            lambda pk=session.pk: OrderSession.objects.filter(
                pk=pk, confirm_attempted_at__isnull=False
            ).exists(),
            timeout=30,
            what=f"the confirmation of session {session.pk} to be attempted",
            interval=0.005,
            explain=explain(worker, ids),
        )
        assert worker.kill_pool(), "no pool child to kill"
        if index == 0:
            # Once more while it follows the session (no lease is held then).
            wait_until(
                lambda pk=session.pk: OrderSession.objects.filter(
                    pk=pk, confirmed_at__isnull=False
                ).exists(),
                timeout=FINAL_WAIT,
                what=f"session {session.pk} to be confirmed after the kill",
                interval=0.005,
                explain=explain(worker, ids),
            )
            worker.kill_pool()
        # One confirmation at a time: no other session's task dies with these children.
        wait_until(
            lambda pk=session.pk: all_final([pk]),
            timeout=FINAL_WAIT,
            what=f"session {session.pk} to reach a final state after the kill",
            interval=0.1,
            explain=explain(worker, ids),
        )

    time.sleep(0.5)  # a killed child's request may still be answered by the sandbox
    totals = check_exactly_once(sessions)
    assert "WorkerLostError" in worker.log_text()
    print(f"\n{worker.kills} pool children killed; confirm calls {totals}")


def test_a_second_click_while_the_worker_confirms_sends_nothing_more(
    celery_worker_process: RunningWorker, settings: Any, user: Any
) -> None:
    worker = celery_worker_process
    [session] = build_sessions(user, sessions=1, lines=2)
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "LATENCY_MS": 200}
    confirm_all(user, [session, session])  # two clicks
    assert services.request_confirmation(user=user, session=session) == []  # a second tab
    wait_until(
        lambda: all_final([session.pk]),
        timeout=FINAL_WAIT,
        what="the session to reach a final state",
        explain=explain(worker, [session.pk]),
    )
    assert sum(confirm_calls(session).values()) == 1
    check_exactly_once([session])
