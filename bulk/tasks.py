"""Thin Celery wrapper: a large upload is read and checked here, with its progress stored."""

from __future__ import annotations

from celery import shared_task

from bulk import services


@shared_task(name="bulk.tasks.read_import", acks_late=True, reject_on_worker_lost=True)
def read_import(batch_id: int) -> None:
    # Idempotent: a batch already read (or cancelled) is left as it is.
    services.read_batch(batch_id)
