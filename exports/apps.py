from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _create_default_schedule(sender: AppConfig, **kwargs: Any) -> None:
    from exports.schedule import ensure_default_schedule

    ensure_default_schedule()


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = _("CSV exports")

    def ready(self) -> None:
        # After every migrate (and every test flush, which emits post_migrate too) the default
        # periodic tasks exist; edits in the admin are kept. To stop one, disable it: a
        # deleted one comes back at the next migrate.
        post_migrate.connect(
            _create_default_schedule, sender=self, dispatch_uid="exports.default_schedule"
        )
        # Registers the tasks by name for exports.dispatch (services never import them).
        import exports.tasks  # noqa: F401
