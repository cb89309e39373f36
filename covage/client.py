"""The Covage API client: the only code of the portal that speaks HTTP to Covage.

What it guarantees to its callers:
- every call has a connect and a read timeout;
- GET, PATCH and DELETE are retried with exponential backoff and full jitter on connection
  errors, timeouts, 502, 503 and 504; a 429 is waited out when ``Retry-After`` is short and
  raised as :class:`CovageRateLimited` when it is not, so a task can reschedule itself;
- a POST and the session confirmation are never repeated automatically: when their outcome is
  unknown they raise :class:`CovageUnavailable` with ``ambiguous=True``, and the caller reads
  the state back (``find_sessions`` / ``get_session``) before doing anything else;
- a 401 drops the shared token, logs in again and repeats the call once;
- failures are typed errors from :mod:`covage.errors`; answers are dataclasses from
  :mod:`covage.schemas`;
- logs (logger ``covage.client``) hold method, path, status, duration, attempt and Covage ids,
  never a token, a password, a request body or a contact's personal data;
- it refuses to be used while the portal serves a request (:mod:`covage.guard`): pages read
  what background tasks stored, and never wait on Covage.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import requests
from django.utils.translation import gettext, gettext_noop
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError

from covage.errors import (
    CovageError,
    CovageUnavailable,
    CovageValidationError,
    error_for_status,
    parse_retry_after,
)
from covage.guard import check_outside_request
from covage.schemas import (
    OFFER_FIELDS,
    Enni,
    ExportStatus,
    HistoricStep,
    LinePayload,
    OrderLine,
    OrderSession,
    Project,
    TrackedOrder,
)
from covage.tokens import TokenProvider, _is_name_resolution

logger = logging.getLogger("covage.client")

T = TypeVar("T")

DOWNLOAD_CHUNK_SIZE = 64 * 1024
RETRYABLE_STATUSES = frozenset({502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 307, 308})
# Guards against a paginated answer whose "next" never ends.
MAX_PAGES = 1000
USER_AGENT = "covage-portal/0.1 (+requests)"


class BinarySink(Protocol):
    """Where a download goes: an open binary file, or anything that writes bytes."""

    def write(self, chunk: bytes, /) -> object: ...


def _quote(value: str) -> str:
    return quote(str(value), safe="")


def _not_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached Covage (the connection was not made).

    Anything else (read timeout, connection reset while waiting) may have been processed.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        inner = exc.args[0] if exc.args else None
        if isinstance(inner, MaxRetryError) and isinstance(inner.reason, NewConnectionError):
            return True
        if isinstance(inner, NewConnectionError):
            return True
    return False


# What happened, by reason, as a sentence about the request (``%(request)s``).
_FAILURES = {
    "connect_timeout": gettext_noop(
        "The portal timed out while connecting to Covage (%(request)s)."
    ),
    "read_timeout": gettext_noop(
        "The portal timed out waiting for Covage to answer (%(request)s)."
    ),
    "dns": gettext_noop("The portal could not resolve Covage's host name (%(request)s)."),
    "connect": gettext_noop("The portal could not connect to Covage (%(request)s)."),
    "connection": gettext_noop("The portal lost the connection to Covage (%(request)s)."),
}


def _failure_reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, requests.Timeout):
        return "read_timeout"
    if isinstance(exc, requests.ConnectionError) and _is_name_resolution(exc):
        return "dns"
    if isinstance(exc, requests.ConnectionError) and _not_sent(exc):
        return "connect"
    return "connection"


def _failure_text(reason: str, request: str, *, ambiguous: bool = False) -> str:
    """The sentence for a request that got no answer, in the active language."""
    text = gettext(_FAILURES[reason]) % {"request": request}
    if ambiguous:
        return gettext(
            "%(failure)s The request may have been processed; check before repeating it."
        ) % {"failure": text}
    return text


def _format_ids(ids: dict[str, str]) -> str:
    """`` key=value`` pairs for a log line (with a leading space), or nothing."""
    return "".join(f" {key}={value}" for key, value in ids.items() if value)


def _bool_param(value: bool) -> str:
    return "true" if value else "false"


def _settle_environment(session: requests.Session, *urls: str) -> None:
    """Read the environment's proxies and CA bundle once, for the two hosts the client calls.

    requests otherwise reads them (and ~/.netrc, whose credentials would replace our bearer
    token) again on every call: a measurable share of each call's work in the worker's
    profile (issue 13). A proxy setting changed later applies from the next process."""
    for url in urls:
        parts = urlsplit(url)
        proxy = requests.utils.get_environ_proxies(url).get(parts.scheme)
        if proxy:
            session.proxies[f"{parts.scheme}://{parts.hostname}"] = proxy
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


class CovageClient:
    """A client for one Covage account. Thread-compatible, not thread-safe: use one per
    thread (``get_client()`` does)."""

    def __init__(
        self,
        *,
        base_url: str,
        token_url: str,
        client_id: str,
        username: str,
        password: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 10.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
        token_provider: TokenProvider | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._jitter = jitter
        self._pid = os.getpid()
        if session is None:
            session = requests.Session()
            # Retries are ours (they must know POST from GET); urllib3 must not add its own.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _settle_environment(session, self.base_url, token_url)
        session.headers["User-Agent"] = USER_AGENT
        self._session = session
        base = urlsplit(self.base_url)
        self._origin = (base.scheme, base.netloc)
        self.tokens = token_provider or TokenProvider(
            token_url=token_url,
            client_id=client_id,
            username=username,
            password=password,
            session=session,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )

    @classmethod
    def from_settings(cls, **overrides: Any) -> CovageClient:
        options = _options_from_settings()
        options.update(overrides)
        return cls(**options)

    def __repr__(self) -> str:
        return f"CovageClient(base_url={self.base_url!r}, username={self.tokens.username!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> CovageClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Order sessions -----------------------------------------------------------------------

    def create_session(self, *, external_id: str, project_id: str = "") -> OrderSession:
        """POST /api/v1/product_order. Never retried: on an ambiguous failure, look the
        session up with :meth:`find_sessions` (``external_id`` carries the local id)."""
        path = "/api/v1/product_order"
        response = self._send(
            "POST",
            path,
            json_body={"external_id": external_id, "project_id": project_id},
            retry=False,
            idempotent=False,
            ids={"external_id": external_id},
        )
        session = self._parse(OrderSession.from_wire, self._json(response, "POST", path), path)
        self._require_id(
            session.id,
            "POST",
            path,
            gettext_noop("Covage's answer to %(request)s has no order session id."),
        )
        logger.info("covage session created session=%s external_id=%s", session.id, external_id)
        return session

    def get_session(self, session_id: str) -> OrderSession:
        """GET /api/v1/product_order/{id}/.

        Not in the Order Taking document: assumed from the API's REST style (and implied by
        the tracking page). The documented ways to learn states are the /confirm/ answer and
        the CSV export; this is the cheap one when Covage offers it.
        """
        path = f"/api/v1/product_order/{_quote(session_id)}/"
        response = self._send("GET", path, ids={"session": session_id})
        return self._parse(OrderSession.from_wire, self._json(response, "GET", path), path)

    def find_sessions(self, *, external_id: str) -> list[OrderSession]:
        """GET /api/v1/product_order?external_id=...

        Not documented either (assumed, as the quotation API offers the same filter): it lets
        the portal find a session after an ambiguous POST. The result is filtered here on
        ``external_id`` too, in case Covage ignores the query parameter.
        """
        path = "/api/v1/product_order"
        items = self._get_list(path, {"external_id": external_id}, {"external_id": external_id})
        sessions = [self._parse(OrderSession.from_wire, item, path) for item in items]
        return [session for session in sessions if session.external_id == external_id]

    def confirm_session(self, session_id: str) -> OrderSession:
        """PATCH /api/v1/product_order/{id}/confirm/: starts the creation of the orders.

        Returns the session with its lines (``items``) and their new states; the answer has
        no session state.
        """
        path = f"/api/v1/product_order/{_quote(session_id)}/confirm/"
        # A PATCH, but not idempotent at Covage: a second confirmation is refused (and may be
        # counted as another order creation attempt), and after a lost answer the first one
        # has probably been processed. So never repeat it automatically; an unknown outcome
        # raises CovageUnavailable(ambiguous=True) and the caller reads the session back.
        response = self._send(
            "PATCH", path, retry=False, idempotent=False, ids={"session": session_id}
        )
        session = self._parse(OrderSession.from_wire, self._json(response, "PATCH", path), path)
        if not session.id:
            session.id = session_id
        logger.info(
            "covage session confirmed session=%s lines=%s",
            session_id,
            ",".join(f"{item.id}:{item.state}" for item in session.items),
        )
        return session

    # --- Order lines --------------------------------------------------------------------------

    def create_line(self, session_id: str, payload: LinePayload) -> OrderLine:
        """POST /api/v1/product_order/{id}/product_order_item. Never retried."""
        path = f"/api/v1/product_order/{_quote(session_id)}/product_order_item"
        response = self._send(
            "POST",
            path,
            json_body=payload.to_wire(),
            retry=False,
            idempotent=False,
            ids={"session": session_id, "external_id": payload.external_id},
        )
        line = self._parse(OrderLine.from_wire, self._json(response, "POST", path), path)
        self._require_id(
            line.id,
            "POST",
            path,
            gettext_noop("Covage's answer to %(request)s has no order line id."),
        )
        logger.info("covage line created session=%s line=%s", session_id, line.id)
        return line

    def update_line(
        self,
        session_id: str,
        line_id: str,
        payload: LinePayload,
        *,
        fields: set[str] | frozenset[str] | None = None,
    ) -> OrderLine:
        """PATCH /api/v1/product_order/{id}/product_order_item/{item_id}.

        ``fields`` limits the body to those fields (the ones changed); None sends every field
        of the PATCH table. The offer family and technology are not in that table: asking
        to send them raises ValueError (an existing line's offer cannot change).
        Setting values is idempotent, so this is retried.
        """
        only = LinePayload.update_field_names() if fields is None else frozenset(fields)
        refused = only & OFFER_FIELDS
        if refused:
            raise ValueError(
                f"PATCH of an order line cannot carry {', '.join(sorted(refused))}: "
                "delete the line and create it anew to change its offer."
            )
        path = f"/api/v1/product_order/{_quote(session_id)}/product_order_item/{_quote(line_id)}"
        response = self._send(
            "PATCH",
            path,
            json_body=payload.to_wire(only=only),
            ids={"session": session_id, "line": line_id},
        )
        return self._parse(OrderLine.from_wire, self._json(response, "PATCH", path), path)

    def delete_line(self, session_id: str, line_id: str) -> OrderSession:
        """DELETE /api/product_order/{id}/product_order_item/{item_id}/; returns the session
        with its remaining lines.

        A 404 after a retry may mean the first attempt did delete the line: callers may treat
        CovageNotFound here as done.
        """
        # The document writes this one path without /v1/ (every other one has it). It is used
        # exactly as documented; if Covage redirects to the /v1/ form with or without the
        # slash, _send follows that once, keeping the method.
        path = f"/api/product_order/{_quote(session_id)}/product_order_item/{_quote(line_id)}/"
        response = self._send("DELETE", path, ids={"session": session_id, "line": line_id})
        if response.status_code == 204 or not response.content.strip():
            return OrderSession(id=session_id)
        session = self._parse(OrderSession.from_wire, self._json(response, "DELETE", path), path)
        if not session.id:
            session.id = session_id
        return session

    # --- Exports ------------------------------------------------------------------------------

    def start_export(self) -> str:
        """POST /api/v1/product_order/export/csv/; returns the task id. Covage allows one
        export per 5 minutes per user: a 429 is raised (never waited or retried here)."""
        path = "/api/v1/product_order/export/csv/"
        response = self._send("POST", path, retry=False, idempotent=False)
        body = self._json(response, "POST", path)
        task_id = body.get("task_id") if isinstance(body, dict) else None
        if not isinstance(task_id, str | int) or not str(task_id):
            raise CovageError(
                gettext("Covage started no export: its answer to POST %(path)s has no task_id.")
                % {"path": path},
                status=response.status_code,
                method="POST",
                path=path,
            )
        logger.info("covage export started task=%s", task_id)
        return str(task_id)

    def export_status(self, task_id: str) -> ExportStatus:
        """GET /api/v1/product_order/export/{task_id}/status/ (success None = still running)."""
        path = f"/api/v1/product_order/export/{_quote(task_id)}/status/"
        response = self._send("GET", path, ids={"task": task_id})
        status = self._parse(ExportStatus.from_wire, self._json(response, "GET", path), path)
        if not status.task_id:
            status.task_id = task_id
        return status

    def download_export(
        self, task_id: str, destination: BinarySink | str | os.PathLike[str]
    ) -> int:
        """GET /api/v1/product_order/export/{task_id}/download/, streamed to ``destination``
        (an open binary file, or a path written through a ``.part`` file then renamed).
        Returns the number of bytes written. The body is never held in memory whole."""
        path = f"/api/v1/product_order/export/{_quote(task_id)}/download/"
        # _send raises on any non-2xx answer, so nothing is written for an error page.
        response = self._send("GET", path, ids={"task": task_id}, stream=True)
        try:
            if isinstance(destination, str | os.PathLike):
                target = Path(destination)
                partial = target.with_name(target.name + ".part")
                try:
                    with partial.open("wb") as handle:
                        written = self._write_chunks(response, handle, path, task_id)
                    partial.replace(target)
                except BaseException:
                    partial.unlink(missing_ok=True)
                    raise
            else:
                written = self._write_chunks(response, destination, path, task_id)
        finally:
            response.close()
        logger.info("covage export downloaded task=%s bytes=%d", task_id, written)
        return written

    # --- Referentials -------------------------------------------------------------------------

    def list_projects(
        self, *, code: str | None = None, active: bool | None = None
    ) -> list[Project]:
        """GET /api/v1/referential/project: the customer's projects (``code`` goes into
        ``project_id`` when ordering)."""
        path = "/api/v1/referential/project"
        params: dict[str, str] = {}
        if code is not None:
            params["code"] = code
        if active is not None:
            params["active"] = _bool_param(active)
        return [self._parse(Project.from_wire, item, path) for item in self._get_list(path, params)]

    def list_ennis(
        self,
        *,
        reference: str | None = None,
        name: str | None = None,
        short_name: str | None = None,
        active: bool | None = None,
        offer: str | None = None,
        dsp: str | None = None,
        delivery_mode: str | None = None,
    ) -> list[Enni]:
        """GET /api/v1/referential/enni/: the customer's ENNIs (``reference`` goes into a
        line's ``enni``)."""
        path = "/api/v1/referential/enni/"
        params: dict[str, str] = {}
        for key, value in (
            ("reference", reference),
            ("name", name),
            ("short_name", short_name),
            ("offer", offer),
            ("dsp", dsp),
            ("delivery_mode", delivery_mode),
        ):
            if value is not None:
                params[key] = value
        if active is not None:
            params["active"] = _bool_param(active)
        return [self._parse(Enni.from_wire, item, path) for item in self._get_list(path, params)]

    # --- Order tracking -----------------------------------------------------------------------

    def list_orders(self, **filters: str | int | bool) -> list[TrackedOrder]:
        """GET /api/v1/order/ with the given query filters (their names are undocumented:
        passed through as given, booleans as true/false)."""
        path = "/api/v1/order/"
        params = {
            key: _bool_param(value) if isinstance(value, bool) else str(value)
            for key, value in filters.items()
        }
        return [
            self._parse(TrackedOrder.from_wire, item, path) for item in self._get_list(path, params)
        ]

    def get_order(self, order_reference: str) -> TrackedOrder:
        """GET /api/v1/order/{order_reference}/."""
        path = f"/api/v1/order/{_quote(order_reference)}/"
        response = self._send("GET", path, ids={"order": order_reference})
        return self._parse(TrackedOrder.from_wire, self._json(response, "GET", path), path)

    def get_order_historic(self, order_reference: str) -> list[HistoricStep]:
        """GET /api/v1/order/{order_reference}/historic/: the production steps."""
        path = f"/api/v1/order/{_quote(order_reference)}/historic/"
        items = self._get_list(path, None, {"order": order_reference}, list_keys=("historic",))
        return [self._parse(HistoricStep.from_wire, item, path) for item in items]

    # --- Transport ----------------------------------------------------------------------------

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            parts = urlsplit(path_or_url)
            if (parts.scheme, parts.netloc) != self._origin:
                # Never send the bearer token to a host other than the configured API.
                raise CovageError(
                    gettext(
                        "Covage pointed to another host (%(host)s); the portal only talks to "
                        "COVAGE_API_URL."
                    )
                    % {"host": f"{parts.scheme}://{parts.netloc}"},
                    path=parts.path,
                )
            return path_or_url
        return self.base_url + path_or_url

    def _backoff_delay(self, attempt: int) -> float:
        return self._jitter(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    def _same_resource_redirect(self, url: str, location: str | None) -> str | None:
        """The redirect target when it is the same path give or take a trailing slash."""
        if not location:
            return None
        target = urljoin(url, location)
        source_parts, target_parts = urlsplit(url), urlsplit(target)
        if (target_parts.scheme, target_parts.netloc) != (
            source_parts.scheme,
            source_parts.netloc,
        ):
            return None
        if target_parts.path.rstrip("/") != source_parts.path.rstrip("/"):
            return None
        return target

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        retry: bool = True,
        idempotent: bool = True,
        ids: dict[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One API call with auth, timeouts, retries and typed errors; returns a 2xx answer.

        ``retry``: may be repeated on transient failures (GET, PATCH, DELETE).
        ``idempotent``: False makes unknown outcomes ``ambiguous`` (POST, confirm).
        ``max_retries`` is the number of repeats after the first attempt.
        """
        check_outside_request(f"CovageClient: {method} {urlsplit(path).path}")
        url = self._url(path)
        log_path = urlsplit(url).path
        id_text = _format_ids(ids or {})
        attempt = 0
        reauthenticated = False
        redirected = False
        token: str | None = None
        while True:
            try:
                if token is None:
                    token = self.tokens.get_access_token()
            except CovageUnavailable:
                # Nothing was sent to the API yet, so even a POST may wait and try again.
                if attempt < self.max_retries:
                    self._sleep(self._backoff_delay(attempt))
                    attempt += 1
                    continue
                raise
            sent_token: str = token
            headers = {"Authorization": f"Bearer {sent_token}", "Accept": "application/json"}
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=(self.connect_timeout, self.read_timeout),
                    allow_redirects=False,
                    stream=stream,
                )
            except requests.RequestException as exc:
                duration_ms = (time.monotonic() - started) * 1000
                reason = _failure_reason(exc)
                ambiguous = not idempotent and not _not_sent(exc)
                logger.warning(
                    "covage %s %s failed %s duration_ms=%.0f attempt=%d%s",
                    method,
                    log_path,
                    reason,
                    duration_ms,
                    attempt + 1,
                    id_text,
                )
                if retry and attempt < self.max_retries:
                    self._sleep(self._backoff_delay(attempt))
                    attempt += 1
                    continue
                raise CovageUnavailable(
                    _failure_text(reason, f"{method} {log_path}", ambiguous=ambiguous),
                    ambiguous=ambiguous,
                    reason=reason,
                    method=method,
                    path=log_path,
                ) from None

            status = response.status_code
            duration_ms = (time.monotonic() - started) * 1000
            logger.info(
                "covage %s %s status=%d duration_ms=%.0f attempt=%d%s",
                method,
                log_path,
                status,
                duration_ms,
                attempt + 1,
                id_text,
            )
            if 200 <= status < 300:
                return response

            if status in REDIRECT_STATUSES and not redirected:
                target = self._same_resource_redirect(url, response.headers.get("Location"))
                if target is not None:
                    # requests would turn a redirected POST into a GET; re-issue it ourselves.
                    response.close()
                    redirected = True
                    url = target
                    log_path = urlsplit(url).path
                    if urlsplit(target).query:
                        params = None
                    continue

            if status == 401 and not reauthenticated:
                # A 401 means the call was not processed: safe to repeat even a POST.
                response.close()
                reauthenticated = True
                token = self.tokens.renew_after_rejection(sent_token)
                continue

            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry and attempt < self.max_retries and retry_after <= self.max_retry_after:
                    response.close()
                    self._sleep(retry_after)
                    attempt += 1
                    continue

            if status in RETRYABLE_STATUSES and retry and attempt < self.max_retries:
                response.close()
                self._sleep(self._backoff_delay(attempt))
                attempt += 1
                continue

            if status in REDIRECT_STATUSES:
                response.close()
                location = response.headers.get("Location")
                raise CovageError(
                    (
                        gettext(
                            "Covage redirected %(request)s to %(location)s; the portal does not "
                            "follow redirects (check COVAGE_API_URL)."
                        )
                        if location
                        else gettext(
                            "Covage redirected %(request)s to nowhere; the portal does not "
                            "follow redirects (check COVAGE_API_URL)."
                        )
                    )
                    % {"request": f"{method} {log_path}", "location": location},
                    status=status,
                    method=method,
                    path=log_path,
                )

            body_text = self._error_text(response)
            error = error_for_status(
                status,
                method=method,
                path=log_path,
                body_text=body_text,
                retry_after_header=response.headers.get("Retry-After"),
                ambiguous=not idempotent and status >= 500,
            )
            if isinstance(error, CovageValidationError):
                logger.warning(
                    "covage %s %s rejected status=%d fields=%s%s",
                    method,
                    log_path,
                    status,
                    ",".join(sorted(error.field_errors)) or "-",
                    id_text,
                )
            raise error

    @staticmethod
    def _error_text(response: requests.Response) -> str:
        try:
            # Error bodies are small; cap them anyway so a streamed error cannot exhaust memory.
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK_SIZE):
                chunks.append(chunk)
                size += len(chunk)
                if size >= DOWNLOAD_CHUNK_SIZE:
                    break
            raw = b"".join(chunks)[:DOWNLOAD_CHUNK_SIZE]
            return raw.decode(response.encoding or "utf-8", errors="replace")
        except (requests.RequestException, RuntimeError):
            return ""
        finally:
            response.close()

    @staticmethod
    def _json(response: requests.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            content_type = response.headers.get("Content-Type", "unknown")
            raise CovageError(
                gettext(
                    "Covage answered %(request)s with something that is not JSON (HTTP "
                    "%(status)s, %(content_type)s)."
                )
                % {
                    "request": f"{method} {path}",
                    "status": response.status_code,
                    "content_type": content_type,
                },
                status=response.status_code,
                method=method,
                path=path,
            ) from None

    @staticmethod
    def _parse(factory: Callable[[Any], T], data: Any, path: str) -> T:
        try:
            return factory(data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise CovageError(
                gettext("Covage's answer to %(path)s has an unexpected shape (%(problem)s).")
                % {"path": path, "problem": exc},
                path=path,
            ) from None

    @staticmethod
    def _require_id(value: str, method: str, path: str, message: str) -> None:
        """``message``: a msgid saying which id is missing, about ``%(request)s``."""
        if not value:
            raise CovageError(
                gettext(message) % {"request": f"{method} {path}"},
                method=method,
                path=path,
            )

    def _get_list(
        self,
        path: str,
        params: dict[str, str] | None,
        ids: dict[str, str] | None = None,
        *,
        list_keys: Iterable[str] = (),
    ) -> list[Any]:
        """All items of a list endpoint: a plain JSON list, or pages of
        ``{"results": [...], "next": url}`` followed to the end."""
        items: list[Any] = []
        current: str = path
        seen: set[str] = set()
        for _page in range(MAX_PAGES):
            response = self._send("GET", current, params=params, ids=ids)
            body = self._json(response, "GET", path)
            if isinstance(body, list):
                items.extend(body)
                return items
            if isinstance(body, dict):
                for key in list_keys:
                    if isinstance(body.get(key), list):
                        items.extend(body[key])
                        return items
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise CovageError(
                    gettext(
                        "Covage's answer to GET %(path)s is neither a list nor a page of results."
                    )
                    % {"path": path},
                    status=response.status_code,
                    method="GET",
                    path=path,
                )
            items.extend(body["results"])
            next_url = body.get("next")
            if not next_url:
                return items
            absolute = urljoin(response.url or self._url(current), next_url)
            if absolute in seen:
                raise CovageError(
                    gettext("Covage's pages of GET %(path)s loop.") % {"path": path},
                    method="GET",
                    path=path,
                )
            seen.add(absolute)
            current = absolute
            # The next link carries the query string already.
            params = None
        raise CovageError(
            gettext("Covage's answer to GET %(path)s has too many pages.") % {"path": path},
            path=path,
        )

    @staticmethod
    def _write_chunks(
        response: requests.Response, handle: BinarySink, path: str, task_id: str
    ) -> int:
        written = 0
        try:
            for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK_SIZE):
                if chunk:
                    handle.write(chunk)
                    written += len(chunk)
        except requests.RequestException as exc:
            reason = _failure_reason(exc)
            logger.warning(
                "covage GET %s download interrupted %s after bytes=%d task=%s",
                path,
                reason,
                written,
                task_id,
            )
            raise CovageUnavailable(
                gettext("The download of export %(task)s stopped. %(failure)s")
                % {"task": task_id, "failure": _failure_text(reason, f"GET {path}")},
                reason=reason,
                method="GET",
                path=path,
            ) from None
        return written


# --- One client per process (and thread) --------------------------------------------------------

_local = threading.local()


def _options_from_settings() -> dict[str, Any]:
    from django.conf import settings

    return {
        "base_url": settings.COVAGE_API_URL,
        "token_url": settings.COVAGE_TOKEN_URL,
        "client_id": settings.COVAGE_CLIENT_ID,
        "username": settings.COVAGE_USERNAME,
        "password": settings.COVAGE_PASSWORD,
        "connect_timeout": settings.COVAGE_CONNECT_TIMEOUT,
        "read_timeout": settings.COVAGE_READ_TIMEOUT,
        "max_retries": settings.COVAGE_MAX_RETRIES,
        "backoff_base": settings.COVAGE_BACKOFF_BASE,
        "backoff_max": settings.COVAGE_BACKOFF_MAX,
        "max_retry_after": settings.COVAGE_MAX_RETRY_AFTER,
    }


def get_client() -> CovageClient:
    """The client built from settings, reused for pooled connections.

    Rebuilt after a fork (a Celery prefork child must not share its parent's sockets), when the
    COVAGE_* settings change (tests point it at a live sandbox), and kept per thread, since a
    requests.Session is not guaranteed thread-safe. Refused while the portal serves a request
    (covage.guard): only background tasks call Covage.
    """
    check_outside_request("covage.client.get_client()")
    options = _options_from_settings()
    client: CovageClient | None = getattr(_local, "client", None)
    stale = client is not None and (
        client._pid != os.getpid() or getattr(_local, "options", None) != options
    )
    if client is None or stale:
        if client is not None:
            client.close()
        client = CovageClient(**options)
        _local.client = client
        _local.options = options
    return client


def reset_client() -> None:
    """Forget this thread's client (tests, or after changing settings)."""
    client: CovageClient | None = getattr(_local, "client", None)
    if client is not None:
        client.close()
    _local.client = None
