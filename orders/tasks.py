"""Thin Celery wrappers around orders.services.

Every task is acknowledged late (a worker that dies mid-task gets it re-delivered) and
idempotent (sync leases, written confirmation attempts). Every countdown stays far below the
broker's visibility timeout, so Redis never re-delivers a task that is merely waiting.
Every retry has a bound: past it, the session needs attention (orders.services.attention),
with the reason in words, and the back office resolves it from the admin.

The services speak for Covage: they raise the portal's RemoteUnavailable (try again later)
or RemoteRefused (a person must act), never Covage's own errors, so nothing here imports the
covage package. The reasons stored are English msgids, translated when shown.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready
from django.db import connections
from django.utils.translation import gettext_noop

from orders import dispatch, selectors, services
from orders.models import OrderSession
from orders.services import attention, sweeper
from orders.services import referentials as referential_service
from orders.services.attention import mark_needs_attention
from orders.services.errors import RemoteRefused, RemoteUnavailable
from orders.services.sync import mark_given_up

logger = logging.getLogger(__name__)

NO_ANSWER = gettext_noop("Covage did not answer. The portal will try again in a few minutes.")
CONFIRMATION_UNANSWERED = gettext_noop(
    "Covage did not answer the confirmation for about an hour. Check that Covage is "
    "reachable, then resolve to confirm again (the portal looks before sending)."
)
LINES_NOT_AT_COVAGE = gettext_noop(
    "The confirmation kept waiting for the session's lines to reach Covage. Check the lines' "
    "errors, then resolve to confirm again."
)
FOLLOWING_UNANSWERED = gettext_noop(
    "Covage did not answer while the portal followed this session for about an hour. "
    "Resolve to follow it again."
)
NOT_FINISHED = gettext_noop(
    "Covage has not finished this session after many hours. Ask Covage about it, then "
    "resolve to follow it again."
)

MAX_COUNTDOWN = 300.0  # seconds; the visibility timeout is an hour
SYNC_MAX_RETRIES = 8
# Waiting for another worker's lease (about a second each): past this, the sweeper takes over.
BUSY_MAX_RETRIES = 30
# Transient failures of a confirmation or a poll: about an hour at the capped backoff.
CONFIRM_MAX_RETRIES = 60
POLL_MAX = 720  # about 10 hours of polling at the cap; then the session needs attention


def backoff(attempt: int, *, base: float = 2.0, cap: float = 60.0) -> float:
    """Exponential with jitter, so that retries of many sessions do not arrive together."""
    delay = min(cap, base * 2**attempt)
    return min(MAX_COUNTDOWN, delay / 2 + random.uniform(0, delay / 2))


def _deferred(task: Task) -> bool:
    """Run inline (tests, CELERY_TASK_ALWAYS_EAGER), a retry would loop at once without its
    countdown: leave the work where it is for the sweeper, or the test, to pick up."""
    return bool(task.request.is_eager)


def _wait_for(exc: RemoteUnavailable, attempt: int) -> float:
    """Covage's own Retry-After when it gave one, else the backoff."""
    if exc.retry_after is not None:
        return min(MAX_COUNTDOWN, max(exc.retry_after, 1.0))
    return backoff(attempt)


@shared_task(bind=True, acks_late=True, max_retries=SYNC_MAX_RETRIES, name=dispatch.SYNC_TASK)
def sync_session(self: Task, session_id: int) -> str:
    if not OrderSession.objects.filter(pk=session_id).exists():
        return "gone"
    try:
        result = services.sync_session(session_id=session_id)
    except RemoteUnavailable as exc:
        if _deferred(self):
            return "deferred"
        if self.request.retries >= SYNC_MAX_RETRIES:
            mark_given_up(session_id=session_id, message=NO_ANSWER)
            return "given_up"
        raise self.retry(exc=exc, countdown=_wait_for(exc, self.request.retries)) from exc
    if result is services.SyncResult.BUSY:
        if _deferred(self) or self.request.retries >= BUSY_MAX_RETRIES:
            # The lease holder sends what it finds; the sweeper re-queues anything left.
            return result.value
        # Another worker is pushing this session; what it misses, this run will send.
        raise self.retry(countdown=backoff(0, base=1.0), max_retries=BUSY_MAX_RETRIES)
    return result.value


def _needs_attention(session_id: int, reason: str) -> str:
    mark_needs_attention(session_id=session_id, reason=reason)
    return "attention"


@shared_task(bind=True, acks_late=True, max_retries=CONFIRM_MAX_RETRIES, name=dispatch.CONFIRM_TASK)
def confirm_session_at_covage(self: Task, session_id: int) -> str:
    """Send the confirmation a person requested (services.request_confirmation queued it),
    then start following the session."""
    try:
        step = services.run_confirmation(session_id=session_id)
    except RemoteUnavailable as exc:
        if self.request.retries >= CONFIRM_MAX_RETRIES:
            return _needs_attention(session_id, CONFIRMATION_UNANSWERED)
        if _deferred(self):
            return "deferred"
        raise self.retry(exc=exc, countdown=_wait_for(exc, min(self.request.retries, 6))) from exc
    except RemoteRefused as exc:
        # Anything else Covage answered unexpectedly: stop, and say so, rather than loop.
        logger.warning("confirmation of session %s stopped: %s", session_id, exc.__cause__ or exc)
        return _needs_attention(session_id, exc.message)
    if step is services.ConfirmStep.RETRY:
        if self.request.retries >= CONFIRM_MAX_RETRIES:
            return _needs_attention(session_id, LINES_NOT_AT_COVAGE)
        if _deferred(self):
            return "deferred"
        raise self.retry(countdown=backoff(min(self.request.retries, 5), base=1.0))
    if step is services.ConfirmStep.POLL and not _deferred(self):
        poll_session.apply_async((session_id,), countdown=backoff(0, base=1.0))
    return step.value


@shared_task(bind=True, acks_late=True, max_retries=CONFIRM_MAX_RETRIES, name=dispatch.POLL_TASK)
def poll_session(self: Task, session_id: int) -> str:
    try:
        result = services.poll_session(session_id=session_id)
    except RemoteUnavailable as exc:
        if self.request.retries >= CONFIRM_MAX_RETRIES:
            return _needs_attention(session_id, FOLLOWING_UNANSWERED)
        if _deferred(self):
            return "deferred"
        raise self.retry(exc=exc, countdown=_wait_for(exc, min(self.request.retries, 6))) from exc
    except RemoteRefused as exc:
        logger.warning("following session %s stopped: %s", session_id, exc.__cause__ or exc)
        return _needs_attention(session_id, exc.message)
    if result is services.PollResult.WAITING and not _deferred(self):
        # The polls made so far, this one included (read here: most polls end final).
        polls = selectors.polls_made(session_id)
        if polls > POLL_MAX:
            return _needs_attention(session_id, NOT_FINISHED)
        poll_session.apply_async((session_id,), countdown=backoff(min(max(polls - 1, 0), 5)))
    return result.value


@shared_task(acks_late=True)
def sweep() -> dict[str, int]:
    """Re-queue work accepted locally that has not reached Covage (a lost message, a broker
    outage, retries given up), and confirmations or polls that stopped. Runs every minute."""
    counts = {"sync": 0, "confirm": 0, "poll": 0, "export": 0, "attention": 0}
    for kind, task, stalled in (
        ("sync", sync_session, sweeper.sessions_needing_sync()),
        ("confirm", confirm_session_at_covage, sweeper.confirmations_stalled()),
        ("poll", poll_session, sweeper.polls_stalled()),
    ):
        for session_id in stalled:
            if attention.count_automatic_retry(session_id):
                task.delay(session_id)
                counts[kind] += 1
            else:
                counts["attention"] += 1
    for session_id in sweeper.exports_overdue():
        if attention.count_automatic_retry(session_id):
            sweeper.ask_export_again(session_id)
            counts["export"] += 1
        else:
            counts["attention"] += 1
    if any(counts.values()):
        logger.info("sweeper re-queued %s", counts)
    return counts


@shared_task(acks_late=True)
def track_orders() -> int:
    """Reads the open orders' production from the tracking API. Runs every few minutes."""
    return services.track_orders()


# --- Referentials ------------------------------------------------------------------------------

REFERENTIALS_MAX_RETRIES = 5


@shared_task(bind=True, acks_late=True, max_retries=REFERENTIALS_MAX_RETRIES)
def refresh_referentials(self: Task) -> dict[str, int] | str:
    """Reads Covage's projects and ENNIs into the store the forms read. Beat runs it every 15
    minutes; a worker queues it when it starts with a list never stored. Idempotent. While
    Covage is down the lists stored last stay in use: a few retries, then beat's next run."""
    try:
        return referential_service.refresh_referentials()
    except RemoteUnavailable as exc:
        if _deferred(self):
            return "deferred"
        if self.request.retries >= REFERENTIALS_MAX_RETRIES:
            logger.warning(
                "covage referentials not refreshed, beat tries again: %s", exc.__cause__ or exc
            )
            return "given_up"
        raise self.retry(exc=exc, countdown=_wait_for(exc, self.request.retries)) from exc
    except RemoteRefused as exc:
        # Refused (403, a wrong answer): retrying now would get the same; beat tries again.
        logger.warning("covage referentials not refreshed: %s", exc.__cause__ or exc)
        return "failed"


@worker_ready.connect(weak=False, dispatch_uid="orders.refresh_referentials_at_start")
def _refresh_missing_referentials(**kwargs: Any) -> None:
    """A fresh install has no lists, and beat's first run of a new schedule comes one interval
    after it was created: a worker that starts with a list never stored queues a refresh."""
    try:
        missing = referential_service.missing_referentials()
    finally:
        # The worker's main process does not run tasks: it keeps no connection open.
        connections.close_all()
    if missing:
        logger.info("covage referentials never stored (%s): refreshing", ", ".join(missing))
        refresh_referentials.delay()
