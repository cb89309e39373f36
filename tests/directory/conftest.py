"""Lines and directory entries for the directory's tests, made through the services (in
non-transactional tests the sync queued on commit never runs: no Covage is needed)."""

from __future__ import annotations

from typing import Any

import pytest

from orders import services as order_services
from orders.services.drafts import save_line


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_line() -> Any:
    """A draft line of `user`'s, with `line` values and `contact` values of entry 0."""

    def make(
        user: Any, *, line: dict[str, Any] | None = None, contact: dict[str, Any] | None = None
    ) -> Any:
        session = order_services.create_session(user=user)
        new = order_services.add_line(user=user, session=session)
        return save_line(
            user=user,
            line=new,
            data=line or {},
            contact_data=contact or {},
            version=new.version,
        )

    return make
