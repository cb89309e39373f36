"""The one place that enqueues the orders app's Celery work.

Services call these and never import orders.tasks (which imports the services): a task is
looked up by its registered name in Celery's registry, which orders.tasks fills when
OrdersConfig.ready() imports it. Work is enqueued after the current transaction commits, so a
worker never reads a row that is not there yet.
"""

from __future__ import annotations

from celery import current_app
from django.db import transaction

# The registered names (orders.tasks gives them explicitly: messages already queued under a
# name must still find their task after a deployment).
SYNC_TASK = "orders.tasks.sync_session"
CONFIRM_TASK = "orders.tasks.confirm_session"
POLL_TASK = "orders.tasks.poll_session"


def _enqueue(name: str, session_id: int) -> None:
    task = current_app.tasks[name]
    transaction.on_commit(lambda: task.delay(session_id))


def enqueue_sync(session_id: int) -> None:
    """Push the session's pending changes to Covage."""
    _enqueue(SYNC_TASK, session_id)


def enqueue_confirmation(session_id: int) -> None:
    """Confirm the session at Covage (orders.tasks.confirm_session_at_covage)."""
    _enqueue(CONFIRM_TASK, session_id)


def enqueue_poll(session_id: int) -> None:
    """Read the session's states back from Covage."""
    _enqueue(POLL_TASK, session_id)
