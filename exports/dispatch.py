"""The one place that enqueues the exports app's Celery work.

exports.services calls these and never imports exports.tasks (which imports the services): a
task is looked up by name in Celery's registry, which exports.tasks fills when
ExportsConfig.ready() imports it.
"""

from __future__ import annotations

from celery import current_app

from exports import conf


def start_export(job_id: int, countdown: float) -> None:
    task = current_app.tasks["exports.tasks.start_export"]
    countdown = min(max(countdown, 0.0), conf.max_countdown())
    if countdown > 0:
        task.apply_async((job_id,), countdown=countdown)
    else:
        task.delay(job_id)


def poll_export(job_id: int, poll_count: int, countdown: float) -> None:
    task = current_app.tasks["exports.tasks.poll_export"]
    task.apply_async((job_id,), {"expected_poll": poll_count}, countdown=countdown)
