"""Session expiry, the second-factor gate and the lockout page.

- Sessions end after SESSION_IDLE_TIMEOUT seconds without a request and, in any case,
  SESSION_ABSOLUTE_TIMEOUT seconds after the login.
- A user with a TOTP device passes it after the password before any page; staff without one
  are sent to enrol first when PORTAL_REQUIRE_STAFF_2FA is on (production's default).
- A login locked out by django-axes gets one page that says the same for every user name,
  known or not.
"""

from __future__ import annotations

import functools
import math
import operator
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import ngettext
from django_otp import device_classes, user_has_device

LOGIN_AT_KEY = "portal_login_at"
SEEN_AT_KEY = "portal_seen_at"
# The last activity is written at most this often, so that htmx polls do not save the
# session on every request.
SEEN_RESOLUTION_SECONDS = 60

# Views a user who still owes the second factor may reach.
SECOND_FACTOR_EXEMPT_VIEWS = frozenset(
    {
        "logout",
        "admin:logout",
        "two_factor_verify",
        "two_factor_enrol",
        "two_factor_qr",
        "set_language",
    }
)


def stamp_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: the session remembers when its login happened."""
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[LOGIN_AT_KEY] = now
        session[SEEN_AT_KEY] = now


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _send_to(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect the page, also when the request came from htmx (a poll or a partial)."""
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    response = HttpResponse(status=302)
    response["Location"] = url
    return response


def _url_with_next(name: str, request: HttpRequest) -> str:
    if _is_htmx(request) or request.method != "GET":
        # Come back to the page, not to the partial or the form's target.
        current = urlsplit(
            request.headers.get("HX-Current-URL") or request.headers.get("Referer") or ""
        )
        next_url = current.path or reverse("home")
        if current.path and current.query:
            next_url += "?" + current.query
    else:
        next_url = request.get_full_path()
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def session_expiry(session: Any, now: float) -> str | None:
    """Why this session has ended, in words, or None while it is still valid."""
    login_at = session.get(LOGIN_AT_KEY)
    seen_at = session.get(SEEN_AT_KEY)
    if login_at is not None and now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT:
        hours = max(1, round(settings.SESSION_ABSOLUTE_TIMEOUT / 3600))
        return ngettext(
            "Your session has ended: it lasts at most %(hours)d hour. Please log in again.",
            "Your session has ended: it lasts at most %(hours)d hours. Please log in again.",
            hours,
        ) % {"hours": hours}
    if seen_at is not None and now - seen_at > settings.SESSION_IDLE_TIMEOUT:
        minutes = max(1, round(settings.SESSION_IDLE_TIMEOUT / 60))
        return ngettext(
            "Your session has ended after %(minutes)d minute without activity. "
            "Please log in again.",
            "Your session has ended after %(minutes)d minutes without activity. "
            "Please log in again.",
            minutes,
        ) % {"minutes": minutes}
    return None


class SessionExpiryMiddleware:
    """Logs out a session past its idle or absolute limit, then sends the user to log in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            reason = session_expiry(request.session, now)
            if reason:
                logout(request)
                messages.info(request, reason)
                if _is_htmx(request) or request.method != "GET":
                    return _send_to(request, _url_with_next(settings.LOGIN_URL, request))
                return redirect_to_login(request.get_full_path())
            session = request.session
            if LOGIN_AT_KEY not in session:
                # A session from before this rule: its clock starts now.
                session[LOGIN_AT_KEY] = int(now)
            if now - session.get(SEEN_AT_KEY, 0) >= SEEN_RESOLUTION_SECONDS:
                session[SEEN_AT_KEY] = int(now)
        return self.get_response(request)


def _is_staff(user: Any) -> bool:
    return bool(user.is_staff or user.is_superuser)


# Set on the request's user by annotate_second_factor (portal/auth.py).
HAS_DEVICE_ANNOTATION = "portal_has_confirmed_device"


def annotate_second_factor(users: QuerySet[Any]) -> QuerySet[Any]:
    """`users`, each with whether they have a confirmed device of any installed kind (what
    django_otp's user_has_device answers), read in the same query."""
    exists = [
        Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True))
        for model in device_classes()
    ]
    has_device = functools.reduce(operator.or_, exists) if exists else Value(False)
    return users.annotate(**{HAS_DEVICE_ANNOTATION: has_device})


def _has_device(user: Any) -> bool:
    known = getattr(user, HAS_DEVICE_ANNOTATION, None)
    return bool(known) if known is not None else user_has_device(user)


def owes_second_factor(user: Any) -> str | None:
    """The view a logged-in, unverified user must go to first, or None."""
    if not user.is_authenticated:
        return None
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return None
    if _has_device(user):
        return "two_factor_verify"
    if settings.PORTAL_REQUIRE_STAFF_2FA and _is_staff(user):
        return "two_factor_enrol"
    return None


class SecondFactorMiddleware:
    """After the password, a user with a device gives a code from it; staff without one enrol
    first when the portal requires it. Covers the portal and the admin alike."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SECOND_FACTOR_EXEMPT_VIEWS:
            return None
        target = owes_second_factor(user)
        if target is None:
            return None
        return _send_to(request, _url_with_next(target, request))


def lockout_response(
    request: HttpRequest, original_response: HttpResponseBase | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the same words whether the user name exists or not."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else None
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes},
        status=429,
    )
