"""The one place that enqueues the notifications app's Celery work, after the commit that
made the notification (so the worker finds it)."""

from __future__ import annotations

from celery import current_app
from django.db import transaction

EMAIL_TASK = "notifications.tasks.email_notification"


def enqueue_email(notification_id: int) -> None:
    task = current_app.tasks[EMAIL_TASK]
    transaction.on_commit(lambda: task.delay(notification_id))
