"""The home dashboard and the lists its counts link to (thin: selectors do the reading)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from dashboard import charts, queues, selectors
from dashboard.forms import LineFilterForm

PAGE_SIZE = 25


class AuthenticatedRequest(HttpRequest):
    user: User


def _link(name: str, queue: str) -> str:
    return f"{reverse(name)}?{urlencode({'queue': queue})}"


@require_safe
def home(request: AuthenticatedRequest) -> HttpResponse:
    """What needs doing and where orders stand: the user's, or everyone's for the back
    office."""
    user = request.user
    back_office = selectors.is_back_office_cached(user)
    found = selectors.counts(user)
    session_queues = [queues.DRAFTS, queues.SYNC_FAILED, queues.WAITING]
    if back_office:
        session_queues.append(queues.ATTENTION)
    tiles: list[dict[str, Any]] = [
        {
            "key": queues.DRAFTS,
            "label": queues.SESSION_QUEUES[queues.DRAFTS],
            "count": found.sessions[queues.DRAFTS],
            "url": _link("dashboard:sessions", queues.DRAFTS),
            "tone": "primary",
        },
        {
            "key": queues.REJECTED,
            "label": queues.LINE_QUEUES[queues.REJECTED],
            "count": found.lines[queues.REJECTED],
            "url": _link("dashboard:lines", queues.REJECTED),
            "tone": "danger",
        },
        {
            "key": queues.SYNC_FAILED,
            "label": queues.SESSION_QUEUES[queues.SYNC_FAILED],
            "count": found.sessions[queues.SYNC_FAILED],
            "url": _link("dashboard:sessions", queues.SYNC_FAILED),
            "tone": "danger",
        },
        {
            "key": queues.WAITING,
            "label": queues.SESSION_QUEUES[queues.WAITING],
            "count": found.sessions[queues.WAITING],
            "url": _link("dashboard:sessions", queues.WAITING),
            "tone": "secondary",
        },
        {
            "key": queues.HELD,
            "label": queues.LINE_QUEUES[queues.HELD],
            "count": found.lines[queues.HELD],
            "url": _link("dashboard:lines", queues.HELD),
            "tone": "warning",
        },
        {
            "key": queues.IN_PRODUCTION,
            "label": queues.LINE_QUEUES[queues.IN_PRODUCTION],
            "count": found.lines[queues.IN_PRODUCTION],
            "url": _link("dashboard:lines", queues.IN_PRODUCTION),
            "tone": "info",
        },
        {
            "key": queues.DELIVERED_MONTH,
            "label": queues.LINE_QUEUES[queues.DELIVERED_MONTH],
            "count": found.lines[queues.DELIVERED_MONTH],
            "url": _link("dashboard:lines", queues.DELIVERED_MONTH),
            "tone": "success",
        },
    ]
    if back_office:
        tiles.append(
            {
                "key": queues.ATTENTION,
                "label": queues.SESSION_QUEUES[queues.ATTENTION],
                "count": found.sessions[queues.ATTENTION],
                "url": _link("dashboard:sessions", queues.ATTENTION),
                "tone": "warning",
            }
        )
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
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
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
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "queue": queue,
        "queue_label": queues.SESSION_QUEUES.get(queue, ""),
        "queues": queues.SESSION_QUEUES.items(),
        "lines_url": _link("dashboard:lines", queue) if queue else reverse("dashboard:lines"),
    }
    return render(request, "dashboard/session_list.html", context)
