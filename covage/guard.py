"""The Covage client is never used while the portal serves a request.

A page must not wait on Covage (DESIGN.md, data flow 1 and 7): every call belongs in a Celery
task. `RequestGuardMiddleware` marks the context of each request it wraps; while it is marked,
`covage.client.get_client()` and every HTTP call of `CovageClient` raise `CovageCallInRequest`,
a programming error, logged with the request it happened in (never caught as a CovageError, so
that it cannot be mistaken for Covage being down).

Celery tasks are exempt, wherever they run. Run eagerly (`task_always_eager`: the tests, or a
deployment that asks for it), a task queued on commit executes inside the request that
committed, in its thread: it is then the task that calls Covage, not the view, and the guard
must not tell them apart by thread. Production workers never run inside a request. So the
guard counts the tasks running in the current context (Celery's task_prerun/task_postrun,
which eager runs send too) and only refuses calls made outside any task.

The middleware wraps the view, the middlewares after it and the rendering of the response. A
streamed body (a CSV download read from disk) is produced after it returns and is not covered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from celery.signals import task_postrun, task_prerun

logger = logging.getLogger("covage.guard")

# What is being served ("GET /orders/new/"), or "" outside any request.
_serving: ContextVar[str] = ContextVar("covage_serving", default="")
# How many Celery tasks are running in this context (nested eager runs count each).
_tasks: ContextVar[int] = ContextVar("covage_tasks", default=0)


class CovageCallInRequest(RuntimeError):
    """Code run by a request tried to call Covage. A bug: the call belongs in a Celery task,
    and the page must read what is stored."""


def check_outside_request(what: str) -> None:
    """Raise CovageCallInRequest when called while serving a request, outside any task."""
    serving = _serving.get()
    if not serving or _tasks.get():
        return
    logger.error(
        "covage client used while serving %s (%s): no request may call Covage; "
        "move the call into a Celery task",
        serving,
        what,
        stack_info=True,
    )
    raise CovageCallInRequest(
        f"{what} was called while serving {serving}. No request may call Covage "
        "(DESIGN.md, data flow 7): queue a Celery task and read what is stored."
    )


@contextmanager
def serving(description: str) -> Iterator[None]:
    """Mark the current context as serving a request (what the middleware does)."""
    token = _serving.set(description or "a request")
    try:
        yield
    finally:
        _serving.reset(token)


class RequestGuardMiddleware:
    """First in settings.MIDDLEWARE: the whole handling of a request is guarded."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        # The path without its query string: the log must not carry what users typed.
        with serving(f"{request.method} {request.path}"):
            return self.get_response(request)


def _task_started(**kwargs: Any) -> None:
    _tasks.set(_tasks.get() + 1)


def _task_ended(**kwargs: Any) -> None:
    # task_postrun is sent from a `finally`, so each start has its end, failures included.
    _tasks.set(max(0, _tasks.get() - 1))


task_prerun.connect(_task_started, weak=False, dispatch_uid="covage.guard.task_started")
task_postrun.connect(_task_ended, weak=False, dispatch_uid="covage.guard.task_ended")
