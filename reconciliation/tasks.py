"""Thin Celery wrapper around reconciliation.services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from reconciliation import services


@shared_task(acks_late=True)
def reconcile_export(job_id: int) -> dict[str, Any]:
    """Settle from one stored export and compare it with the portal's records. Idempotent: a
    re-delivered message (or an export announced again) records nothing twice."""
    return services.reconcile_export(job_id=job_id).as_dict()
