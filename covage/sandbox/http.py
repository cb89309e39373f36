"""Small response helpers shared by the sandbox views."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import JsonResponse
from django.utils import timezone


def iso(value: datetime | None) -> str | None:
    """Covage writes local time with milliseconds and offset: 2025-04-10T12:11:57.548+02:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="milliseconds")


def iso_date(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).date().isoformat()
    return value.isoformat()


def json_response(data: Any, status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(
        data, status=status, safe=False, json_dumps_params={"ensure_ascii": False}
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def detail(message: str, status: int, **headers: str) -> JsonResponse:
    return json_response({"detail": message}, status=status, **headers)


def not_found() -> JsonResponse:
    return detail("Not found.", 404)


class ApiError(Exception):
    """An answer other than success, raised from deep inside a view."""

    status = 400

    def __init__(self, body: dict[str, Any], status: int | None = None) -> None:
        super().__init__(body)
        self.body = body
        if status is not None:
            self.status = status


class NotFound(ApiError):
    def __init__(self) -> None:
        super().__init__({"detail": "Not found."}, 404)


class Refused(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__({"detail": message}, 400)
