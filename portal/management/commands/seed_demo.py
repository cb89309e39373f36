"""Create the demo users of a local run: one salesperson and one back-office agent.

Passwords are generated and printed once, when the users are created; they are stored
nowhere else. Set PORTAL_DEMO_PASSWORD to choose one instead (handy for scripted demos).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.roles import BACK_OFFICE, SALES, ensure_role_groups

DEMO_USERS = (
    # username, first name, last name, group, is_staff (admin access)
    ("sophie", "Sophie", "Lefèvre", SALES, False),
    ("bruno", "Bruno", "Nguyễn-Hébert", BACK_OFFICE, True),
)


class Command(BaseCommand):
    help = "Create the demo users (one sales, one back office) and print their credentials once."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION:
            raise CommandError("Demo users are not created with PORTAL_ENV=production.")
        ensure_role_groups()
        User = get_user_model()
        for username, first, last, group_name, is_staff in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                self.stdout.write(
                    f"Demo user '{username}' already exists "
                    f"(reset its password with: manage.py changepassword {username})."
                )
                continue
            password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)  # 16 characters
            try:
                # The same rules as every password (12 characters at least, not common).
                validate_password(password, User(username=username, first_name=first))
            except ValidationError as error:
                raise CommandError(
                    "PORTAL_DEMO_PASSWORD is refused: " + " ".join(error.messages)
                ) from error
            user = User.objects.create_user(
                username=username,
                password=password,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                is_staff=is_staff,
            )
            user.groups.add(Group.objects.get(name=group_name))
            role = "back office" if group_name == BACK_OFFICE else "sales"
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created demo {role} user: username '{username}', password '{password}'"
                )
            )
