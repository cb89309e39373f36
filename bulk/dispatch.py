"""The one place that enqueues the bulk app's Celery work (services never import tasks)."""

from __future__ import annotations

from celery import current_app
from django.db import transaction

READ_TASK = "bulk.tasks.read_import"


def enqueue_read(batch_id: int) -> None:
    """Read and check a large upload in the background, after the commit that stored it."""
    task = current_app.tasks[READ_TASK]
    transaction.on_commit(lambda: task.delay(batch_id))
