"""Thin Celery wrappers around orders.services.

Every task is acknowledged late (a worker that dies mid-task gets it re-delivered) and
idempotent (sync leases, written confirmation attempts). Every countdown stays far below the
broker's visibility timeout, so Redis never re-delivers a task that is merely waiting.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task

from covage.errors import CovageRateLimited, CovageUnavailable
from orders import services
from orders.models import OrderSession
from orders.services import sweeper
from orders.services.sync import mark_given_up

logger = logging.getLogger(__name__)

MAX_COUNTDOWN = 300.0  # seconds; the visibility timeout is an hour
SYNC_MAX_RETRIES = 8
POLL_MAX = 720  # about 10 hours of polling at the cap; the sweeper resumes after that


def backoff(attempt: int, *, base: float = 2.0, cap: float = 60.0) -> float:
    """Exponential with jitter, so that retries of many sessions do not arrive together."""
    delay = min(cap, base * 2**attempt)
    return min(MAX_COUNTDOWN, delay / 2 + random.uniform(0, delay / 2))


def _deferred(task) -> bool:  # type: ignore[no-untyped-def]
    """Run inline (tests, CELERY_TASK_ALWAYS_EAGER), a retry would loop at once without its
    countdown: leave the work where it is for the sweeper, or the test, to pick up."""
    return bool(task.request.is_eager)


def _wait_for(exc: Exception, attempt: int) -> float:
    if isinstance(exc, CovageRateLimited):
        return min(MAX_COUNTDOWN, max(exc.retry_after, 1.0))
    return backoff(attempt)


@shared_task(bind=True, acks_late=True, max_retries=SYNC_MAX_RETRIES)
def sync_session(self, session_id: int) -> str:  # type: ignore[no-untyped-def]
    if not OrderSession.objects.filter(pk=session_id).exists():
        return "gone"
    try:
        result = services.sync_session(session_id=session_id)
    except (CovageUnavailable, CovageRateLimited) as exc:
        if _deferred(self):
            return "deferred"
        if self.request.retries >= self.max_retries:
            mark_given_up(
                session_id=session_id,
                message=f"{exc} The portal will try again in a few minutes.",
            )
            return "given_up"
        raise self.retry(exc=exc, countdown=_wait_for(exc, self.request.retries)) from exc
    if result is services.SyncResult.BUSY:
        if _deferred(self):
            return result.value
        # Another worker is pushing this session; what it misses, this run will send. Waiting
        # does not count against the retries (max_retries=None would mean the task's limit).
        raise self.retry(countdown=backoff(0, base=1.0), max_retries=self.request.retries + 1)
    return result.value


@shared_task(bind=True, acks_late=True, max_retries=None)
def confirm_session(self, session_id: int) -> str:  # type: ignore[no-untyped-def]
    if not OrderSession.objects.filter(pk=session_id).exists():
        return "gone"
    try:
        step = services.run_confirmation(session_id=session_id)
    except (CovageUnavailable, CovageRateLimited) as exc:
        if _deferred(self):
            return "deferred"
        # No limit: the session stays "confirming" on screen until Covage answers; the
        # countdown is capped, and an outage only slows it down.
        raise self.retry(exc=exc, countdown=_wait_for(exc, min(self.request.retries, 6))) from exc
    if step is services.ConfirmStep.RETRY:
        if _deferred(self):
            return "deferred"
        raise self.retry(countdown=backoff(min(self.request.retries, 5), base=1.0))
    if step is services.ConfirmStep.POLL and not _deferred(self):
        poll_session.apply_async((session_id,), countdown=backoff(0, base=1.0))
    return step.value


@shared_task(bind=True, acks_late=True, max_retries=None)
def poll_session(self, session_id: int) -> str:  # type: ignore[no-untyped-def]
    session = OrderSession.objects.filter(pk=session_id).only("poll_count").first()
    if session is None:
        return "gone"
    try:
        final = services.poll_session(session_id=session_id)
    except (CovageUnavailable, CovageRateLimited) as exc:
        if _deferred(self):
            return "deferred"
        raise self.retry(exc=exc, countdown=_wait_for(exc, min(self.request.retries, 6))) from exc
    if final:
        return "final"
    if session.poll_count < POLL_MAX and not _deferred(self):
        poll_session.apply_async((session_id,), countdown=backoff(min(session.poll_count, 5)))
    return "waiting"


@shared_task(acks_late=True)
def sweep() -> dict[str, int]:
    """Re-queue work accepted locally that has not reached Covage (a lost message, a broker
    outage, retries given up), and confirmations or polls that stopped. Runs every minute."""
    counts = {"sync": 0, "confirm": 0, "poll": 0}
    for session_id in sweeper.sessions_needing_sync():
        sync_session.delay(session_id)
        counts["sync"] += 1
    for session_id in sweeper.confirmations_stalled():
        confirm_session.delay(session_id)
        counts["confirm"] += 1
    for session_id in sweeper.polls_stalled():
        poll_session.delay(session_id)
        counts["poll"] += 1
    if any(counts.values()):
        logger.info("sweeper re-queued %s", counts)
    return counts


@shared_task(acks_late=True)
def track_orders() -> int:
    """Reads the open orders' production from the tracking API. Runs every few minutes."""
    return services.track_orders()
