"""The one place that enqueues the orders app's Celery work.

Services call these and never import orders.tasks (which imports the services): a task is
looked up by name in Celery's registry, which orders.tasks fills when OrdersConfig.ready()
imports it. Work is enqueued after the current transaction commits, so a worker never reads
a row that is not there yet.
"""

from __future__ import annotations

from celery import current_app
from django.db import transaction


def _enqueue(name: str, session_id: int) -> None:
    task = current_app.tasks[f"orders.tasks.{name}"]
    transaction.on_commit(lambda: task.delay(session_id))


def sync_session(session_id: int) -> None:
    _enqueue("sync_session", session_id)


def confirm_session(session_id: int) -> None:
    _enqueue("confirm_session", session_id)


def poll_session(session_id: int) -> None:
    _enqueue("poll_session", session_id)
