"""A worker keeps its database connection from one task to the next (portal/celery.py), as
a web process does from one request to the next, and drops it when Django would."""

from __future__ import annotations

import time

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from orders import tasks
from portal.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


def _run_task_signals(fixup: DjangoWorkerFixup) -> None:
    """What a prefork worker does around a task: its Django fix-up and every receiver."""
    task = tasks.sync_session
    fixup.on_task_prerun(sender=task)
    task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    fixup.on_task_postrun(sender=task)
    task_postrun.send(sender=task, task_id="t", task=task, args=(), kwargs={}, retval=None)


def test_the_connection_outlives_a_task() -> None:
    fixup = DjangoWorkerFixup(app)
    connection.ensure_connection()
    opened = connection.connection
    for _ in range(3):
        _run_task_signals(fixup)
    assert connection.connection is opened


def test_a_connection_past_its_age_is_closed_after_the_task() -> None:
    fixup = DjangoWorkerFixup(app)
    connection.ensure_connection()
    opened = connection.connection
    _run_task_signals(fixup)
    connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE has gone by
    _run_task_signals(fixup)
    assert connection.connection is not opened


def test_a_connection_an_error_left_unusable_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    fixup = DjangoWorkerFixup(app)
    connection.ensure_connection()
    broken = connection.connection
    # A query failed mid-task and the server no longer answers on this connection.
    connection.errors_occurred = True
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    fixup.on_task_postrun(sender=tasks.sync_session)
    task_postrun.send(
        sender=tasks.sync_session, task_id="t", task=tasks.sync_session, args=(), kwargs={}
    )
    monkeypatch.undo()
    _run_task_signals(fixup)
    assert connection.connection is not broken
