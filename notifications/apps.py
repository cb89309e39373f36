from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _create_default_schedule(sender: AppConfig, **kwargs: Any) -> None:
    from notifications.schedule import ensure_default_schedule

    ensure_default_schedule()


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        post_migrate.connect(
            _create_default_schedule, sender=self, dispatch_uid="notifications.default_schedule"
        )
        from notifications import receivers

        receivers.connect()
        # Registers the tasks by name for notifications.dispatch.
        import notifications.tasks  # noqa: F401
