"""Thin Celery tasks around notifications.services.email (acknowledged late, idempotent)."""

from __future__ import annotations

from celery import shared_task

from notifications.services import email


@shared_task(
    name="notifications.tasks.email_notification",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=6,
)
def email_notification(notification_id: int) -> bool:
    return email.email_notification(notification_id=notification_id)


@shared_task(name="notifications.tasks.send_digests")
def send_digests() -> int:
    return email.send_digests()
