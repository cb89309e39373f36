"""The authentication backend: Django's ModelBackend, with the user of each request read in
one query together with what every page asks about them next.

Every page loads the user from its session id, then asks which role groups they are in (the
navbar, the visibility rules) and whether they have a confirmed second-factor device (the
second-factor gate, portal/security.py): three queries per request before the view starts.
Under load that was a third of the sessions list's database work (tests/perf/
test_load_bench.py), so `get_user` reads the two answers as EXISTS subqueries of the user's
own query. They are as fresh as before, read on every request; a user object from anywhere
else (the login itself, the admin) has no annotations and is asked the usual way.

The query's SQL is compiled once per process: compiling it (three subqueries) took Django's
ORM more time than PostgreSQL took to run it, on every page (issue 13). Only the user's id
changes from one request to the next.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from portal.roles import annotate_roles
from portal.security import annotate_second_factor

# Stands for the user's id while the SQL is compiled; no real id is negative.
_ID_MARKER = -424242


def _users() -> QuerySet[Any]:
    """Every user with their role groups and second factor, as annotations."""
    return annotate_second_factor(annotate_roles(get_user_model()._default_manager.all()))


@functools.cache
def _user_sql() -> tuple[str, tuple[Any, ...], int]:
    """The SQL of `_users()` for one id, its parameters, and where the id goes in them."""
    sql, params = _users().filter(pk=_ID_MARKER).query.sql_with_params()
    positions = [index for index, value in enumerate(params) if value == _ID_MARKER]
    if len(positions) != 1:
        raise RuntimeError(f"the user query's id parameter is ambiguous: {params!r}")
    return sql, tuple(params), positions[0]


def load_user(user_id: Any) -> Any:
    """The active or inactive user with this id, annotated (`_users()`), or None."""
    model = get_user_model()
    try:
        pk = model._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    sql, params, position = _user_sql()
    values = list(params)
    values[position] = pk
    # raw() maps the columns back to the model's fields and sets the annotations as
    # attributes, with the database's converters, as the queryset would.
    return next(iter(model._default_manager.raw(sql, values)), None)


class PortalBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user = load_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
