"""Plain Django views of the simulated Covage API (no DRF: JsonResponse and small helpers).

Every view is exempt from the portal's login and CSRF middleware: callers authenticate with a
bearer token, as at Covage. Every call is recorded in SandboxCall, faulted ones included.

Handlers marked `@undocumented` serve what the documents do not describe (listing and finding
sessions, reading one back): with the knob UNDOCUMENTED off they are not there, so their method
answers 405 where the path serves documented methods, and the path answers 404 where it serves
nothing else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from covage.sandbox import exports, faults, lifecycle, referentials
from covage.sandbox.auth import AuthFailure, TokenError, authenticate, grant
from covage.sandbox.http import ApiError, detail, json_response
from covage.sandbox.knobs import undocumented_served
from covage.sandbox.models import SandboxAccount, SandboxCall
from covage.sandbox.payloads import (
    DELETE_FIELDS,
    line_repr,
    parse_json_object,
    session_repr,
    session_summary,
    session_with_items,
    validate_line,
    validate_no_fields,
    validate_session,
)

logger = logging.getLogger(__name__)

Handler = Callable[..., HttpResponseBase]


def undocumented(handler: Handler) -> Handler:
    """Marks a handler of an endpoint the documents do not describe (knob UNDOCUMENTED)."""
    handler.undocumented = True  # type: ignore[attr-defined]
    return handler


def _served(handlers: dict[str, Handler]) -> dict[str, Handler]:
    if undocumented_served():
        return handlers
    return {
        method: handler
        for method, handler in handlers.items()
        if not getattr(handler, "undocumented", False)
    }


def _record(request: HttpRequest, username: str, status: int, started: float) -> None:
    try:
        SandboxCall.objects.create(
            time=timezone.now(),
            account=username,
            method=request.method or "",
            path=request.path[:500],
            status=status,
            duration_ms=(time.monotonic() - started) * 1000,
        )
    except Exception:
        # Losing one record must not turn a served answer into an error.
        logger.exception("could not record a sandbox call")


def _method_not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    response = detail(f'Method "{request.method}" not allowed.', 405)
    response["Allow"] = ", ".join(allowed)
    return response


def api_view(handlers: dict[str, Handler]) -> Handler:
    """Bearer check, then faults, then the handler of the request's method."""

    @csrf_exempt
    @login_not_required
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        started = time.monotonic()
        username = ""
        status = 500
        try:
            authenticated = authenticate(request)
            if isinstance(authenticated, AuthFailure):
                response: HttpResponseBase = detail(authenticated.message, 401)
                response["WWW-Authenticate"] = 'Bearer realm="covage"'
            else:
                username = authenticated.username
                response = _serve(request, authenticated, handlers, kwargs)
            status = response.status_code
            return response
        finally:
            _record(request, username, status, started)

    return view


def _serve(
    request: HttpRequest,
    account: SandboxAccount,
    handlers: dict[str, Handler],
    kwargs: dict[str, Any],
) -> HttpResponseBase:
    rolled = faults.roll()
    faults.sleep_latency()
    if rolled.rate_limited:
        return faults.rate_limited_response()
    if rolled.server_error:
        return faults.server_error_response(rolled.server_error)
    handlers = _served(handlers)
    if not handlers:
        # Every method of this path is undocumented and switched off: the path does not exist.
        return detail("Not found.", 404)
    handler = handlers.get(request.method or "")
    if handler is None:
        return _method_not_allowed(request, list(handlers))
    try:
        response = handler(request, account, **kwargs)
    except ApiError as error:
        response = json_response(error.body, status=error.status)
    if rolled.timeout:
        # The work is done and committed: the client times out on an effective write.
        faults.sleep_timeout()
    return response


# --- Token endpoint ------------------------------------------------------------------------------


@csrf_exempt
@login_not_required
def token(request: HttpRequest) -> HttpResponse:
    started = time.monotonic()
    username = ""
    status = 500
    try:
        if request.method != "POST":
            response = _method_not_allowed(request, ["POST"])
        else:
            try:
                account, body = grant({key: request.POST.get(key, "") for key in request.POST})
                username = account.username
                response = json_response(body)
            except TokenError as error:
                response = json_response(error.body(), status=error.status)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        status = response.status_code
        return response
    finally:
        _record(request, username, status, started)


# --- Order sessions and lines -------------------------------------------------------------------


@undocumented
def list_sessions(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    lifecycle.resolve_due(account)
    sessions = account.product_orders.all()
    external_id = request.GET.get("external_id")
    if external_id is not None:
        sessions = sessions.filter(external_id=external_id)
    return json_response([session_with_items(session) for session in sessions])


def create_session(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    fields = validate_session(parse_json_object(request))
    session = lifecycle.create_session(account, fields)
    return json_response(session_repr(session), status=201)


@undocumented
def get_session(request: HttpRequest, account: SandboxAccount, order_id: str) -> HttpResponse:
    lifecycle.resolve_due(account)
    return json_response(session_with_items(lifecycle.get_session(account, order_id)))


def create_line(request: HttpRequest, account: SandboxAccount, order_id: str) -> HttpResponse:
    fields = validate_line(parse_json_object(request), partial=False)
    return json_response(line_repr(lifecycle.create_line(account, order_id, fields)), status=201)


def update_line(
    request: HttpRequest, account: SandboxAccount, order_id: str, item_id: str
) -> HttpResponse:
    fields = validate_line(parse_json_object(request), partial=True)
    return json_response(line_repr(lifecycle.update_line(account, order_id, item_id, fields)))


def delete_line(
    request: HttpRequest, account: SandboxAccount, order_id: str, item_id: str
) -> HttpResponse:
    validate_no_fields(parse_json_object(request), DELETE_FIELDS)
    session = lifecycle.delete_line(account, order_id, item_id)
    return json_response(session_summary(session))


def confirm_session(request: HttpRequest, account: SandboxAccount, order_id: str) -> HttpResponse:
    validate_no_fields(parse_json_object(request))
    session = lifecycle.confirm(account, order_id)
    return json_response(session_summary(session))


# --- Exports ------------------------------------------------------------------------------------


def start_export(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    validate_no_fields(parse_json_object(request))
    task, retry_after = exports.request_export(account)
    if task is None:
        return detail(
            f"Request was throttled. Expected available in {retry_after} seconds.",
            429,
            Retry_After=str(retry_after),
        )
    return json_response({"task_id": str(task.uid)}, status=201)


def export_status(request: HttpRequest, account: SandboxAccount, task_id: str) -> HttpResponse:
    return json_response(exports.task_status(exports.get_task(account, task_id)))


def export_download(
    request: HttpRequest, account: SandboxAccount, task_id: str
) -> HttpResponseBase:
    task = exports.get_task(account, task_id)
    if not exports.is_downloadable(task):
        return detail("File not found: the export is not finished or has failed.", 404)
    lifecycle.resolve_due(account)
    response = StreamingHttpResponse(
        exports.stream_csv(account), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="product_order_{task.uid}.csv"'
    return response


# --- Order tracking -----------------------------------------------------------------------------


def list_orders(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    lifecycle.resolve_due(account)
    now = timezone.now()
    return json_response(
        [lifecycle.order_repr(item, now) for item in lifecycle.created_orders(account)]
    )


def get_order(request: HttpRequest, account: SandboxAccount, reference: str) -> HttpResponse:
    lifecycle.resolve_due(account)
    item = lifecycle.get_order(account, reference)
    return json_response(lifecycle.order_repr(item, timezone.now()))


def order_historic(request: HttpRequest, account: SandboxAccount, reference: str) -> HttpResponse:
    lifecycle.resolve_due(account)
    item = lifecycle.get_order(account, reference)
    return json_response(lifecycle.order_historic(item, timezone.now()))


# --- Referentials -------------------------------------------------------------------------------


def projects(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    return json_response(
        referentials.filter_items(
            referentials.PROJECTS, request.GET.dict(), referentials.PROJECT_FILTERS
        )
    )


def ennis(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    return json_response(
        referentials.filter_items(referentials.ENNIS, request.GET.dict(), referentials.ENNI_FILTERS)
    )


# --- Errors outside any route -------------------------------------------------------------------


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return detail("Not found.", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return detail("A server error occurred.", 500)


# --- The sandbox's own page (not part of the Covage API) ----------------------------------------


@csrf_exempt
@login_not_required
def about(request: HttpRequest) -> HttpResponse:
    """Says "I am the sandbox": scripts that write orders check it before running.

    Shows the fault and delay knobs so a tester knows what to expect; never the accounts.
    """
    from covage.sandbox.knobs import DEFAULTS, knob

    public = {name: knob(name) for name in DEFAULTS if name != "ACCOUNTS"}
    return json_response({"sandbox": True, "name": "Covage sandbox", "knobs": public})
