"""OAuth2 tokens for the Covage API (Keycloak, password grant).

The token lives in the Django cache (file or Redis), so that every process, web and workers,
shares one login instead of each logging in on its own. The cache key is derived from the
token URL and the user name only: the password never leaves this module except in the login
form itself, and no token is ever logged or put into an exception.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, TypedDict

import requests
from django.core.cache import BaseCache, caches
from django.utils.translation import gettext, gettext_noop

from covage.errors import (
    CovageAuthenticationError,
    CovageError,
    CovageNotFound,
    CovageRateLimited,
    CovageUnavailable,
    parse_retry_after,
)

logger = logging.getLogger("covage.client")

# Renew this long before Covage says the token expires: clocks drift and a request started
# just before expiry must not arrive just after it.
EXPIRY_MARGIN_SECONDS = 30.0
_DEFAULT_EXPIRES_IN = 300.0


class CachedToken(TypedDict):
    access_token: str
    expires_at: float
    refresh_token: str
    refresh_expires_at: float


class TokenProvider:
    """Gets, caches, refreshes and renews the bearer token for one Covage account."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        username: str,
        password: str,
        session: requests.Session,
        connect_timeout: float,
        read_timeout: float,
        cache: BaseCache | None = None,
        clock: Callable[[], float] = time.time,
        margin: float = EXPIRY_MARGIN_SECONDS,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.username = username
        self._password = password
        self._session = session
        self._timeout = (connect_timeout, read_timeout)
        self._cache = cache
        self._clock = clock
        self._margin = margin
        digest = hashlib.sha256(f"{token_url}\n{username}".encode()).hexdigest()[:32]
        self.cache_key = f"covage:token:{digest}"
        # The entry this process last read or stored: while its access token is valid, a call
        # needs no cache read (one Redis round trip per API call was a measurable share of
        # the worker's time). A token another process dropped after a 401 is still used here
        # until it is refused in turn: renew_after_rejection then reads the shared one.
        self._last: CachedToken | None = None

    def __repr__(self) -> str:
        # The default dataclass-like repr would show the password in tracebacks.
        return f"TokenProvider(token_url={self.token_url!r}, username={self.username!r})"

    @property
    def cache(self) -> BaseCache:
        # Resolved per call: Django's cache handler gives each thread its own connection.
        return self._cache if self._cache is not None else caches["default"]

    # --- Public -------------------------------------------------------------------------------

    def get_access_token(self) -> str:
        """A valid access token: cached, refreshed, or from a fresh login."""
        now = self._clock()
        if self._last and self._last["expires_at"] - self._margin > now:
            return self._last["access_token"]
        entry = self._read()
        if entry and entry["expires_at"] - self._margin > now:
            self._last = entry
            return entry["access_token"]
        if entry and entry["refresh_token"] and entry["refresh_expires_at"] - self._margin > now:
            try:
                return self._store(self._grant(self._refresh_form(entry["refresh_token"])))
            except CovageAuthenticationError:
                # The refresh token was revoked or the Keycloak session ended: log in again.
                logger.info("covage token refresh refused; logging in again")
        return self.login()

    def login(self) -> str:
        """A password login, ignoring the cache (then cached for everyone)."""
        return self._store(self._grant(self._password_form()))

    def invalidate(self, rejected_token: str | None = None) -> None:
        """Forget the cached token. With ``rejected_token``, only if it is still the cached
        one: another process may already have replaced it with a good one."""
        self._last = None
        if rejected_token is not None:
            entry = self._read()
            if entry is None or entry["access_token"] != rejected_token:
                return
        self.cache.delete(self.cache_key)

    def renew_after_rejection(self, rejected_token: str) -> str:
        """After a 401: a token other than the rejected one, logging in if needed."""
        self.invalidate(rejected_token)
        entry = self._read()
        if (
            entry
            and entry["access_token"] != rejected_token
            and entry["expires_at"] - self._margin > self._clock()
        ):
            return entry["access_token"]
        return self.login()

    # --- Internals ----------------------------------------------------------------------------

    def _password_form(self) -> dict[str, str]:
        return {
            "grant_type": "password",
            "client_id": self.client_id,
            "username": self.username,
            "password": self._password,
        }

    def _refresh_form(self, refresh_token: str) -> dict[str, str]:
        return {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "refresh_token": refresh_token,
        }

    def _read(self) -> CachedToken | None:
        entry = self.cache.get(self.cache_key)
        if not isinstance(entry, dict) or not entry.get("access_token"):
            return None
        return entry  # type: ignore[return-value]

    def _store(self, body: dict[str, Any]) -> str:
        now = self._clock()
        access_token = body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise CovageError(
                gettext("The Covage token endpoint (%(url)s) answered without an access token.")
                % {"url": self.token_url},
                method="POST",
                path=self.token_url,
            )
        expires_in = _seconds(body.get("expires_in"), _DEFAULT_EXPIRES_IN)
        refresh_token = body.get("refresh_token")
        refresh_expires_in = _seconds(body.get("refresh_expires_in"), 0.0)
        entry: CachedToken = {
            "access_token": access_token,
            "expires_at": now + expires_in,
            "refresh_token": refresh_token if isinstance(refresh_token, str) else "",
            "refresh_expires_at": now + refresh_expires_in if refresh_token else 0.0,
        }
        # Keep the entry as long as either token is usable, so the refresh token survives
        # the access token.
        lifetime = max(entry["expires_at"], entry["refresh_expires_at"]) - now
        if lifetime > self._margin:
            self.cache.set(self.cache_key, entry, timeout=int(lifetime))
        self._last = entry
        return access_token

    def _grant(self, form: dict[str, str]) -> dict[str, Any]:
        grant = form["grant_type"]
        started = time.monotonic()
        try:
            response = self._session.post(
                self.token_url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            logger.warning(
                "covage token %s grant for user %r failed: %s",
                grant,
                self.username,
                type(exc).__name__,
            )
            raise _unavailable_from_exception(exc, self.token_url) from None
        duration_ms = (time.monotonic() - started) * 1000
        logger.info(
            "covage POST token (%s grant) user=%r status=%s duration_ms=%.0f",
            grant,
            self.username,
            response.status_code,
            duration_ms,
        )
        status = response.status_code
        if status in (400, 401):
            if grant == "refresh_token":
                message = gettext(
                    "Covage refused the refresh token for user '%(user)s' at %(url)s (HTTP "
                    "%(status)s%(oauth_error)s)."
                )
            else:
                message = gettext(
                    "Covage refused the credentials for user '%(user)s' at %(url)s (HTTP "
                    "%(status)s%(oauth_error)s)."
                )
            raise CovageAuthenticationError(
                message
                % {
                    "user": self.username,
                    "url": self.token_url,
                    "status": status,
                    "oauth_error": _oauth_error(response),
                },
                status=status,
                method="POST",
                path=self.token_url,
            )
        if status == 404:
            raise CovageNotFound(
                gettext("The Covage token endpoint was not found at %(url)s (HTTP 404).")
                % {"url": self.token_url},
                status=status,
                method="POST",
                path=self.token_url,
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise CovageRateLimited(
                gettext("The Covage token endpoint asks us to slow down; retry in %(seconds)s s.")
                % {"seconds": f"{retry_after:.0f}"},
                retry_after=retry_after,
                method="POST",
                path=self.token_url,
            )
        if status >= 500:
            raise CovageUnavailable(
                gettext("The Covage token endpoint is unavailable (HTTP %(status)s at %(url)s).")
                % {"status": status, "url": self.token_url},
                reason="server_error",
                status=status,
                method="POST",
                path=self.token_url,
            )
        if status != 200:
            raise CovageAuthenticationError(
                gettext(
                    "The Covage token endpoint answered HTTP %(status)s for user '%(user)s' at "
                    "%(url)s."
                )
                % {"status": status, "user": self.username, "url": self.token_url},
                status=status,
                method="POST",
                path=self.token_url,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise CovageError(
                gettext(
                    "The Covage token endpoint (%(url)s) did not answer JSON; is "
                    "COVAGE_TOKEN_URL the Keycloak token URL?"
                )
                % {"url": self.token_url},
                status=status,
                method="POST",
                path=self.token_url,
            )
        return body


def _seconds(value: Any, default: float) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def _oauth_error(response: requests.Response) -> str:
    """Keycloak's ``error`` code (``invalid_grant``...): useful, and never a secret."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return f", {body['error'][:60]}"
    return ""


def _is_name_resolution(exc: BaseException) -> bool:
    text = repr(exc)
    return "NameResolutionError" in text or "Name or service not known" in text


_TOKEN_FAILURES = {
    "connect_timeout": gettext_noop(
        "The portal timed out while connecting to the Covage token endpoint at %(url)s."
    ),
    "read_timeout": gettext_noop(
        "The portal timed out waiting for an answer from the Covage token endpoint at %(url)s."
    ),
    "dns": gettext_noop(
        "The portal could not resolve the host name of the Covage token endpoint at %(url)s."
    ),
    "connect": gettext_noop(
        "The portal could not connect to the Covage token endpoint at %(url)s."
    ),
    "connection": gettext_noop(
        "The portal failed to talk to the Covage token endpoint at %(url)s."
    ),
}


def _unavailable_from_exception(
    exc: requests.RequestException, url: str, *, method: str = "POST"
) -> CovageUnavailable:
    """A CovageUnavailable for a request that never got a response, without the request's
    details (``str(exc)`` of requests can include the URL, never the headers)."""
    if isinstance(exc, requests.ConnectTimeout):
        reason = "connect_timeout"
    elif isinstance(exc, requests.Timeout):
        reason = "read_timeout"
    elif isinstance(exc, requests.ConnectionError) and _is_name_resolution(exc):
        reason = "dns"
    elif isinstance(exc, requests.ConnectionError):
        reason = "connect"
    else:
        reason = "connection"
    return CovageUnavailable(
        gettext(_TOKEN_FAILURES[reason]) % {"url": url},
        reason=reason,
        method=method,
        path=url,
    )
