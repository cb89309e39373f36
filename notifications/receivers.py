"""Where notifications hook into the rest of the portal: an order event once recorded
(post_save of OrderEvent: every event goes through orders.services.events.record), and the
exports' signals. A notification that fails never stops the work that caused it."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

logger = logging.getLogger(__name__)

# The order events that may call for a notification (notify_for_event decides); the others
# cost nothing here.
NOTIFYING_ACTIONS = frozenset({"line_state", "session_state", "order_state", "needs_attention"})


def _on_order_event(
    sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw or instance.action not in NOTIFYING_ACTIONS:
        return
    from notifications.services.create import may_notify, notify_for_event

    if not may_notify(instance):
        return
    try:
        with transaction.atomic():
            notify_for_event(instance)
    except Exception:  # the order's own work goes on
        logger.exception("notifications for event %s failed", instance.pk)


def _on_export(job: Any, *, ready: bool) -> None:
    from notifications.services.create import notify_export

    try:
        with transaction.atomic():
            notify_export(job, ready=ready)
    except Exception:
        logger.exception("notifications for export %s failed", getattr(job, "pk", None))


def _on_export_stored(sender: type, *, job: Any, **kwargs: Any) -> None:
    _on_export(job, ready=True)


def _on_export_failed(sender: type, *, job: Any, **kwargs: Any) -> None:
    _on_export(job, ready=False)


def connect() -> None:
    from exports.signals import export_failed, export_stored
    from orders.models import OrderEvent

    post_save.connect(_on_order_event, sender=OrderEvent, dispatch_uid="notifications.order_event")
    export_stored.connect(_on_export_stored, dispatch_uid="notifications.export_stored")
    export_failed.connect(_on_export_failed, dispatch_uid="notifications.export_failed")
