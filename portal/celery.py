"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix."""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fix-up closes every database connection before and after each task unless
# CELERY_DB_REUSE_MAX is set (celery#9824): each task then started a new PostgreSQL backend,
# with cold caches and none of its prepared statements (server_side_binding). In the confirm
# benchmark (tests/perf/test_confirm_bench.py) every task of every session did. The fix-up
# now recycles them only every so many tasks; between tasks the worker treats them as Django
# treats a request's: dropped when an error left them unusable or CONN_MAX_AGE has passed,
# and checked before their first use (CONN_HEALTH_CHECKS, portal/settings.py).
app.conf.CELERY_DB_REUSE_MAX = 10_000


@task_prerun.connect(weak=False, dispatch_uid="portal.close_old_connections_before")
@task_postrun.connect(weak=False, dispatch_uid="portal.close_old_connections_after")
def _close_old_connections(task: Task | None = None, **kwargs: Any) -> None:
    # A task run inline (tests, CELERY_TASK_ALWAYS_EAGER) is inside its caller's work.
    if task is None or not task.request.is_eager:
        close_old_connections()
