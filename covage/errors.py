"""Typed errors raised by the Covage client.

Every failure of a call to Covage ends as one of these, never as a ``requests`` exception,
so that the portal's services (and the check command) depend on nothing but this module; the
services turn them into the portal's own errors, and nothing above them meets these.
Messages are marked for translation and written in the language active where the call failed
(a worker's, for most): they are for the log, the check command and the back office, and
never hold a token, a password or a request body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from django.utils.translation import gettext, gettext_noop

DEFAULT_RETRY_AFTER = 60.0
# Covage's error bodies are undocumented: keep what we quote from them short.
_MAX_DETAIL_CHARS = 300


class CovageError(Exception):
    """A call to Covage failed. ``status`` is None when no HTTP answer came back."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.method = method
        self.path = path

    def __str__(self) -> str:
        return self.detail


class CovageValidationError(CovageError):
    """Covage refused the data (400/422). ``field_errors`` maps flattened field paths
    (``related_contact_information[0].postcode``) to messages."""

    def __init__(
        self,
        detail: str,
        *,
        field_errors: dict[str, list[str]] | None = None,
        status: int | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(detail, status=status, method=method, path=path)
        self.field_errors: dict[str, list[str]] = field_errors or {}


class CovageAuthenticationError(CovageError):
    """Covage did not accept our identity: a 401 from the API, or the token endpoint
    refusing the credentials or the refresh token."""


class CovagePermissionDenied(CovageError):
    """403: the account is known but lacks the right for this call."""


class CovageNotFound(CovageError):
    """404: the session, line, order, task or URL does not exist."""


class CovageRateLimited(CovageError):
    """429. ``retry_after`` is how many seconds Covage asked us to wait."""

    def __init__(
        self,
        detail: str,
        *,
        retry_after: float = DEFAULT_RETRY_AFTER,
        status: int | None = 429,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(detail, status=status, method=method, path=path)
        self.retry_after = retry_after


class CovageUnavailable(CovageError):
    """Covage could not be reached or failed (5xx, timeout, connection error).

    ``ambiguous`` is True when a non-idempotent call (a POST, the confirmation) may have been
    processed although we got no usable answer: the caller must read the state back before
    trying again. ``reason`` says what happened: ``dns``, ``connect``, ``connect_timeout``,
    ``read_timeout``, ``connection`` (dropped after sending) or ``server_error``.
    """

    def __init__(
        self,
        detail: str,
        *,
        ambiguous: bool = False,
        reason: str = "",
        status: int | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(detail, status=status, method=method, path=path)
        self.ambiguous = ambiguous
        self.reason = reason


# --- Parsing helpers --------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def _as_messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value if not isinstance(item, dict | list)]
    if value is None:
        return []
    return [str(value)]


def flatten_field_errors(body: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten a DRF-style error body into ``{"a[0].b": ["message"]}``.

    Handles ``{"field": ["msg"]}``, nested dicts, lists of dicts (one per list item, empty
    dicts for valid items), and plain strings.
    """
    errors: dict[str, list[str]] = {}

    def add(key: str, messages: list[str]) -> None:
        if messages:
            errors.setdefault(key or "non_field_errors", []).extend(messages)

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            if any(isinstance(item, dict | list) for item in node):
                for index, item in enumerate(node):
                    if isinstance(item, dict | list):
                        walk(item, f"{path}[{index}]")
                    elif item not in (None, ""):
                        add(path, [str(item)])
            else:
                add(path, _as_messages(node))
        elif node not in (None, ""):
            add(path, [str(node)])

    walk(body, prefix)
    return errors


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL_CHARS:
        return text[: _MAX_DETAIL_CHARS - 1] + "…"
    return text


def _decode_body(body_text: str) -> tuple[Any, bool]:
    """The parsed JSON body and whether it was JSON at all."""
    if not body_text.strip():
        return None, False
    try:
        return json.loads(body_text), True
    except ValueError:
        return None, False


def describe_body(body_text: str) -> tuple[str, dict[str, list[str]]]:
    """A human summary of an error body and the field errors found in it."""
    body, is_json = _decode_body(body_text)
    if not is_json:
        if body_text.strip().startswith("<"):
            # An HTML error page from a proxy says nothing useful to a user.
            return "", {}
        return _short(body_text), {}
    if isinstance(body, str):
        return _short(body), {}
    if isinstance(body, dict) and set(body) <= {"detail", "message", "error", "code"}:
        for key in ("detail", "message", "error"):
            if body.get(key):
                return _short(str(body[key])), {}
        return "", {}
    if isinstance(body, dict) and "detail" in body and isinstance(body["detail"], str):
        rest = {key: value for key, value in body.items() if key != "detail"}
        return _short(body["detail"]), flatten_field_errors(rest)
    field_errors = flatten_field_errors(body)
    summary = "; ".join(f"{key}: {' '.join(messages)}" for key, messages in field_errors.items())
    return _short(summary), field_errors


def explained(with_detail: str, without_detail: str, detail: str, **values: object) -> str:
    """One of two msgids (marked with gettext_noop by the caller), in the active language:
    the first when Covage's answer said something (``detail``), the second when not."""
    if detail:
        return gettext(with_detail) % {**values, "detail": detail}
    return gettext(without_detail) % values


def error_for_status(
    status: int,
    *,
    method: str,
    path: str,
    body_text: str = "",
    retry_after_header: str | None = None,
    ambiguous: bool = False,
) -> CovageError:
    """The typed error for an HTTP error answer from the API (not the token endpoint)."""
    summary, field_errors = describe_body(body_text)
    where = f"{method} {path}"
    if status in (400, 422):
        return CovageValidationError(
            explained(
                gettext_noop("Covage rejected the data sent (%(request)s): %(detail)s"),
                gettext_noop("Covage rejected the data sent (%(request)s)."),
                summary,
                request=where,
            ),
            field_errors=field_errors,
            status=status,
            method=method,
            path=path,
        )
    if status == 401:
        return CovageAuthenticationError(
            explained(
                gettext_noop("Covage did not accept our credentials (%(request)s): %(detail)s"),
                gettext_noop("Covage did not accept our credentials (%(request)s)."),
                summary,
                request=where,
            ),
            status=status,
            method=method,
            path=path,
        )
    if status == 403:
        return CovagePermissionDenied(
            explained(
                gettext_noop(
                    "The Covage account is not allowed to do this (%(request)s): %(detail)s"
                ),
                gettext_noop("The Covage account is not allowed to do this (%(request)s)."),
                summary,
                request=where,
            ),
            status=status,
            method=method,
            path=path,
        )
    if status == 404:
        return CovageNotFound(
            explained(
                gettext_noop("Covage does not know this resource (%(request)s): %(detail)s"),
                gettext_noop("Covage does not know this resource (%(request)s)."),
                summary,
                request=where,
            ),
            status=status,
            method=method,
            path=path,
        )
    if status == 429:
        retry_after = parse_retry_after(retry_after_header)
        return CovageRateLimited(
            explained(
                gettext_noop(
                    "Covage asks us to slow down (%(request)s); retry in %(seconds)s s: %(detail)s"
                ),
                gettext_noop("Covage asks us to slow down (%(request)s); retry in %(seconds)s s."),
                summary,
                request=where,
                seconds=f"{retry_after:.0f}",
            ),
            retry_after=retry_after,
            method=method,
            path=path,
        )
    if status >= 500:
        if ambiguous:
            message = gettext(
                "Covage is unavailable (HTTP %(status)s on %(request)s). The request may have "
                "been processed; check before repeating it."
            )
        else:
            message = gettext("Covage is unavailable (HTTP %(status)s on %(request)s).")
        return CovageUnavailable(
            message % {"status": status, "request": where},
            ambiguous=ambiguous,
            reason="server_error",
            status=status,
            method=method,
            path=path,
        )
    return CovageError(
        explained(
            gettext_noop("Covage answered HTTP %(status)s to %(request)s: %(detail)s"),
            gettext_noop("Covage answered HTTP %(status)s to %(request)s."),
            summary,
            request=where,
            status=status,
        ),
        status=status,
        method=method,
        path=path,
    )
