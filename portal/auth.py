"""The authentication backend: Django's ModelBackend, with the user of each request read in
one query together with what every page asks about them next.

Every page loads the user from its session id, then asks which role groups they are in (the
navbar, the visibility rules) and whether they have a confirmed second-factor device (the
second-factor gate, portal/security.py): three queries per request before the view starts.
Under load that was a third of the sessions list's database work (tests/perf/
test_load_bench.py), so `get_user` reads the two answers as EXISTS subqueries of the user's
own query. They are as fresh as before, read on every request; a user object from anywhere
else (the login itself, the admin) has no annotations and is asked the usual way.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import QuerySet

from portal.roles import annotate_roles
from portal.security import annotate_second_factor


@functools.cache
def _users() -> QuerySet[Any]:
    """The annotated users, built once: building the subqueries cost more than running the
    query. Never evaluated itself; each request's `get` works on a copy."""
    return annotate_second_factor(annotate_roles(get_user_model()._default_manager.all()))


class PortalBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        try:
            user = _users().get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
