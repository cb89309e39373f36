"""Thin Celery wrappers around exports.services.

Every task is acknowledged late and idempotent: a re-delivered start does not ask Covage for a
second export, and a re-delivered poll neither polls twice in one turn nor downloads twice
(see the claims in services). Countdowns stay far below the broker's visibility timeout.
"""

from __future__ import annotations

from celery import shared_task

from exports import services


def _schedule(job_id: int, step: services.NextStep | None) -> None:
    if step is None:
        return
    if step.task == "start":
        start_export.apply_async((job_id,), countdown=step.countdown)
    else:
        poll_export.apply_async(
            (job_id,), {"expected_poll": step.poll_count}, countdown=step.countdown
        )


@shared_task(acks_late=True)
def start_export(job_id: int) -> None:
    _schedule(job_id, services.start_export_job(job_id=job_id))


@shared_task(acks_late=True)
def poll_export(job_id: int, expected_poll: int | None = None) -> bool | None:
    result = services.poll_export_job(job_id=job_id, expected_poll=expected_poll)
    if result is None:
        _schedule(job_id, services.next_poll(job_id=job_id))
    return result


@shared_task(acks_late=True)
def purge_expired_exports() -> int:
    return services.purge_expired_exports()


@shared_task(acks_late=True)
def run_scheduled_export(period: str = "daily") -> int | None:
    """Fired by beat. The slot comes from the firing time, so two firings in one period
    (beat restarted, two beats by mistake) make one export."""
    job = services.run_scheduled_export(slot=services.schedule_slot_for(period=period))
    return job.pk if job else None
