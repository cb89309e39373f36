from __future__ import annotations

from django.http import HttpRequest

from portal.roles import is_back_office


def roles(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    return {"is_back_office": bool(user is not None and is_back_office(user))}
