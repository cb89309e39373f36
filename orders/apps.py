from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_default_schedule(sender: AppConfig, **kwargs: Any) -> None:
    from orders.schedule import ensure_default_schedule

    ensure_default_schedule()


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        post_migrate.connect(
            _create_default_schedule, sender=self, dispatch_uid="orders.default_schedule"
        )
