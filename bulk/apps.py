from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BulkConfig(AppConfig):
    name = "bulk"
    verbose_name = _("Imports from sheets")

    def ready(self) -> None:
        # Registers the task by name for bulk.dispatch (services never import it).
        import bulk.tasks  # noqa: F401
