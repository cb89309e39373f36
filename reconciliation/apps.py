from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _export_stored(sender: type, *, job: Any, **kwargs: Any) -> None:
    """Every stored export is settled from and compared, by a worker, once the job's row is
    committed (the task reads the file the row names)."""
    from reconciliation.tasks import reconcile_export

    job_id = job.pk
    transaction.on_commit(lambda: reconcile_export.delay(job_id))


def _grant_back_office(sender: AppConfig, **kwargs: Any) -> None:
    """The back office reads differences and comparisons in the admin (changes go through
    the reconciliation page and the admin's actions, i.e. the services)."""
    from django.contrib.auth.models import Group, Permission

    from portal.roles import BACK_OFFICE

    group, _created = Group.objects.get_or_create(name=BACK_OFFICE)
    perms = Permission.objects.filter(
        content_type__app_label="reconciliation", codename__startswith="view_"
    )
    group.permissions.add(*perms)


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = _("Reconciliation with Covage")

    def ready(self) -> None:
        from exports.signals import export_stored

        export_stored.connect(_export_stored, dispatch_uid="reconciliation.export_stored")
        post_migrate.connect(
            _grant_back_office, sender=self, dispatch_uid="reconciliation.back_office"
        )
