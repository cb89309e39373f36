"""The two roles of the portal and the questions views ask about them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

SALES = "sales"
BACK_OFFICE = "back_office"
ROLE_GROUPS = (SALES, BACK_OFFICE)


def is_back_office(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Back office sees and corrects every session; superusers count as back office."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=BACK_OFFICE).exists()


def is_sales(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and user.groups.filter(name=SALES).exists()


# Apps whose models the back office may correct in the admin. "axes": the failed-login
# lockouts, which the back office reads and lifts (by deleting the attempt).
BACK_OFFICE_APPS = ("orders", "exports", "django_celery_beat", "axes", "directory")
# Narrower grants: the back office sees and removes users' TOTP devices (a lost phone), but
# cannot add or change one (that would hand it someone's second factor).
BACK_OFFICE_PERMISSIONS = (
    ("otp_totp", "view_totpdevice"),
    ("otp_totp", "delete_totpdevice"),
)


def ensure_role_groups() -> None:
    """Create the two groups and give the back office the admin permissions it needs.

    Runs after every migrate, so permissions of models added later are granted too.
    """
    from django.contrib.auth.models import Group, Permission

    Group.objects.get_or_create(name=SALES)
    back_office, _ = Group.objects.get_or_create(name=BACK_OFFICE)
    perms = Permission.objects.filter(content_type__app_label__in=BACK_OFFICE_APPS)
    back_office.permissions.add(*perms)
    for app_label, codename in BACK_OFFICE_PERMISSIONS:
        back_office.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        )
