"""The home dashboard and the lists its counts link to (thin: selectors do the reading)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from dashboard import charts, queues, selectors
from dashboard.forms import LineFilterForm
from portal.pagination import paginate
from portal.roles import is_back_office

PAGE_SIZE = 25


class AuthenticatedRequest(HttpRequest):
    user: User


def _link(name: str, queue: str) -> str:
    return f"{reverse(name)}?{urlencode({'queue': queue})}"


def _tile(found: selectors.Counts, key: str, tone: str) -> dict[str, Any]:
    if key in queues.SESSION_QUEUES:
        label, count, view = queues.SESSION_QUEUES[key], found.sessions[key], "dashboard:sessions"
    else:
        label, count, view = queues.LINE_QUEUES[key], found.lines[key], "dashboard:lines"
    return {"key": key, "label": label, "count": count, "url": _link(view, key), "tone": tone}


@require_safe
def home(request: AuthenticatedRequest) -> HttpResponse:
    """What needs doing and where orders stand: the user's, or everyone's for the back
    office."""
    user = request.user
    back_office = is_back_office(user)
    found = selectors.counts(user)
    # (queue, tone) in the order shown; session queues link to sessions, the others to lines.
    shown = [
        (queues.DRAFTS, "primary"),
        (queues.REJECTED, "danger"),
        (queues.SYNC_FAILED, "danger"),
        (queues.WAITING, "secondary"),
        (queues.HELD, "warning"),
        (queues.IN_PRODUCTION, "info"),
        (queues.DELIVERED_MONTH, "success"),
    ]
    if back_office:
        shown.append((queues.ATTENTION, "warning"))
    tiles = [_tile(found, key, tone) for key, tone in shown]
    to_acknowledged = selectors.lead_time_to_acknowledged(user)
    to_active = selectors.lead_time_to_active(user)
    weekly = selectors.confirmed_per_week(user)
    context = {
        "back_office": back_office,
        "tiles": tiles,
        "reasons": charts.reason_bars(selectors.rejection_reasons(user)),
        "rejected_url": _link("dashboard:lines", queues.REJECTED),
        "weekly": weekly,
        "weekly_chart": charts.weekly_chart(weekly),
        "to_acknowledged": to_acknowledged,
        "to_acknowledged_chart": charts.histogram(to_acknowledged.buckets),
        "to_active": to_active,
        "to_active_chart": charts.histogram(to_active.buckets, colour="#198754"),
        "outcome_labels": charts.OUTCOME_LABELS,
        "reconciliation_open": selectors.reconciliation_open_count() if back_office else None,
    }
    return render(request, "dashboard/home.html", context)


@require_safe
def line_list(request: AuthenticatedRequest) -> HttpResponse:
    """The user's lines across sessions, filtered by the query string, paginated."""
    form = LineFilterForm(request.GET or None)
    filters = form.filters()
    lines = selectors.with_steps(selectors.lines_for(request.user, filters))
    page = paginate(lines, request.GET.get("page"), PAGE_SIZE)
    queue = filters.get("queue") or ""
    context = {
        "form": form,
        "page": page,
        "queue_label": dict(queues.LINE_QUEUES | queues.SESSION_QUEUES).get(queue, ""),
        "filtered": any(value for name, value in filters.items() if name != "sort"),
    }
    return render(request, "dashboard/line_list.html", context)


@require_safe
def session_list(request: AuthenticatedRequest) -> HttpResponse:
    """The sessions of one dashboard count (drafts, syncs failed, waiting, attention)."""
    queue = request.GET.get("queue", "")
    if queue not in queues.SESSION_QUEUES:
        queue = ""
    sessions = selectors.sessions_for_queue(request.user, queue)
    page = paginate(sessions, request.GET.get("page"), PAGE_SIZE)
    context = {
        "page": page,
        "queue": queue,
        "queue_label": queues.SESSION_QUEUES.get(queue, ""),
        "queues": queues.SESSION_QUEUES.items(),
        "lines_url": _link("dashboard:lines", queue) if queue else reverse("dashboard:lines"),
    }
    return render(request, "dashboard/session_list.html", context)
