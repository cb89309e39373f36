"""Covage's errors in the portal's terms.

The services that call Covage raise `RemoteUnavailable` or `RemoteRefused`
(orders.services.errors) where Covage's own errors (covage.errors) would have left them, so
that the tasks above them need nothing from the covage package. The texts are English msgids
without placeholders: they are stored (a session's or a line's last error, the reason a
session needs attention) and translated when shown; the detail stays in the log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.utils.translation import gettext_noop

from covage.errors import (
    CovageAuthenticationError,
    CovageError,
    CovageNotFound,
    CovagePermissionDenied,
    CovageRateLimited,
    CovageUnavailable,
)
from orders.services.errors import RemoteError, RemoteRefused, RemoteUnavailable

# Failures that may pass: the task retries them with backoff.
TRANSIENT_ERRORS = (CovageUnavailable, CovageRateLimited)

SLOW_DOWN = gettext_noop(
    "Covage asked the portal to slow down: it sends again in a moment by itself."
)
UNREACHABLE = gettext_noop("Covage could not be reached: the portal tries again by itself.")
CREDENTIALS_REFUSED = gettext_noop(
    "Covage did not accept the portal's credentials. An administrator must check the Covage "
    "account settings; then press Retry."
)
NOT_ALLOWED = gettext_noop(
    "Covage refused: the portal's account is not allowed to do this (HTTP 403). Ask your "
    "administrator to check the account's rights with Covage, then press Retry."
)
NOT_KNOWN = gettext_noop(
    "Covage no longer knows this session or line (HTTP 404). The back office must check it "
    "before anything is sent again."
)
REFUSED = gettext_noop(
    "Covage refused the request or answered something the portal cannot read. Contact the "
    "back office."
)


def unavailable_text(exc: CovageError) -> str:
    """What a user reads while Covage cannot be reached (the log keeps the detail)."""
    if isinstance(exc, CovageRateLimited):
        return SLOW_DOWN
    return UNREACHABLE


def refusal_text(exc: CovageError) -> str:
    """What a user reads when Covage refuses outright: what to do, never hosts or accounts."""
    if isinstance(exc, CovageAuthenticationError):
        return CREDENTIALS_REFUSED
    if isinstance(exc, CovagePermissionDenied):
        return NOT_ALLOWED
    if isinstance(exc, CovageNotFound):
        return NOT_KNOWN
    return REFUSED


def portal_error(exc: CovageError) -> RemoteError:
    """The portal's error for one of Covage's."""
    if isinstance(exc, CovageRateLimited):
        return RemoteUnavailable(SLOW_DOWN, retry_after=exc.retry_after)
    if isinstance(exc, CovageUnavailable):
        return RemoteUnavailable(UNREACHABLE)
    return RemoteRefused(refusal_text(exc))


P = ParamSpec("P")
R = TypeVar("R")


def in_portal_terms(function: Callable[P, R]) -> Callable[P, R]:
    """Make a service that calls Covage raise the portal's errors instead of Covage's (the
    original stays the `__cause__`, for the log)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except CovageError as exc:
            raise portal_error(exc) from exc

    return wrapper
