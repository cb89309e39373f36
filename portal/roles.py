"""The two roles of the portal and the questions views ask about them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet

SALES = "sales"
BACK_OFFICE = "back_office"
ROLE_GROUPS = (SALES, BACK_OFFICE)


def _annotation(group: str) -> str:
    return f"portal_role_{group}"


def annotate_roles(users: QuerySet[Any]) -> QuerySet[Any]:
    """`users`, each with one boolean per role group read in the same query (the request's
    user: portal/auth.py)."""
    memberships = get_user_model().groups.through.objects.filter(user=OuterRef("pk"))
    return users.annotate(
        **{_annotation(name): Exists(memberships.filter(group__name=name)) for name in ROLE_GROUPS}
    )


def _group_names(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role groups, read once per user object: a page asks several times (the
    view, the navbar's context processor, the selectors), and the user object lives for one
    request. The request's user comes with them (annotate_roles); any other asks here."""
    cached: frozenset[str] | None = getattr(user, "_portal_role_groups", None)
    if cached is None:
        if hasattr(user, _annotation(ROLE_GROUPS[0])):
            cached = frozenset(name for name in ROLE_GROUPS if getattr(user, _annotation(name)))
        else:
            cached = frozenset(
                user.groups.filter(name__in=ROLE_GROUPS).values_list("name", flat=True)  # type: ignore[union-attr]
            )
        user._portal_role_groups = cached  # type: ignore[union-attr]
    return cached


def is_back_office(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Back office sees and corrects every session; superusers count as back office."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return BACK_OFFICE in _group_names(user)


def is_sales(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and SALES in _group_names(user)


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
