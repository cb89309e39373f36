from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _create_role_groups(sender: AppConfig, **kwargs: Any) -> None:
    from portal.roles import ensure_role_groups

    ensure_role_groups()


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        # Keyed on this app so it runs once per migrate, after every app's permissions exist
        # (portal's signal fires after auth and contenttypes, which precede it in settings).
        post_migrate.connect(_create_role_groups, dispatch_uid="portal.create_role_groups")
        from django.contrib.auth.signals import user_logged_in

        from portal.security import stamp_login

        # The absolute session limit counts from here (portal.security).
        user_logged_in.connect(stamp_login, dispatch_uid="portal.stamp_login")
