from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _create_default_schedule(sender: AppConfig, **kwargs: Any) -> None:
    from orders.schedule import ensure_default_schedule

    ensure_default_schedule()


def _export_failed(sender: type, *, job: Any, **kwargs: Any) -> None:
    from orders.services.lookups import ask_again_after_failed_export

    ask_again_after_failed_export()


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        post_migrate.connect(
            _create_default_schedule, sender=self, dispatch_uid="orders.default_schedule"
        )
        from exports.signals import export_failed

        # Sessions waiting on an export must not wait for one that will never come.
        export_failed.connect(_export_failed, dispatch_uid="orders.export_failed")
        # Registers the tasks by name for orders.dispatch (services never import them).
        import orders.tasks  # noqa: F401
