"""The Exports page. Views stay thin: selectors read, services change, templates show."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from exports import conf, selectors, services

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class AuthenticatedRequest(HttpRequest):
    """What these views get: LoginRequiredMiddleware lets no anonymous request reach them,
    and django-htmx adds `htmx`."""

    user: User
    htmx: HtmxDetails


HISTORY_LIMIT = 50


def _panel_context() -> dict[str, object]:
    next_allowed_at = services.next_export_allowed_at()
    wait = (next_allowed_at - timezone.now()).total_seconds() if next_allowed_at else 0
    return {
        "next_allowed_at": next_allowed_at,
        # The disabled button asks again when the window opens, so it comes back by itself.
        "wait_seconds": max(1, math.ceil(wait)),
        "today": timezone.localdate(),
    }


def _page_context(request: AuthenticatedRequest) -> dict[str, object]:
    jobs = list(selectors.export_jobs_for(user=request.user)[:HISTORY_LIMIT])
    return {
        "active_jobs": [job for job in jobs if job.is_active],
        "finished_jobs": [job for job in jobs if not job.is_active],
        "window_rule": services.window_rule(),
        "retention_days": conf.retention().days,
        **_panel_context(),
    }


@require_GET
def export_list(request: AuthenticatedRequest) -> HttpResponse:
    """The whole page; an htmx request gets the history table alone (same URL, so Vary)."""
    context = _page_context(request)
    template = "exports/partials/history.html" if request.htmx else "exports/export_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def request_panel(request: AuthenticatedRequest) -> HttpResponse:
    """The "Request export" button alone, fetched again by htmx when the window opens."""
    return render(request, "exports/partials/request_panel.html", _panel_context())


@require_POST
def request_export(request: AuthenticatedRequest) -> HttpResponse:
    try:
        services.request_export(user=request.user)
    except services.ExportTooSoon as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request,
            _(
                "Export requested. Covage prepares the file; this page shows its progress and "
                "the download link when it is ready."
            ),
        )
    return redirect("exports:list")


@require_GET
def job_status(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    """One job's card, polled by htmx while the job runs; a finished card stops the polling."""
    job = selectors.export_job_for(user=request.user, job_id=job_id)
    return render(request, "exports/partials/job_card.html", {"job": job})


@require_GET
def download(request: AuthenticatedRequest, job_id: int) -> FileResponse:
    job = selectors.export_job_for(user=request.user, job_id=job_id)
    # A salesperson gets the rows of their own sessions; the back office the whole file.
    stored = services.file_for(job, request.user)
    if not job.is_downloadable or stored is None or not stored.storage.exists(stored.name):
        raise Http404(_("This export has no file (not ready, failed or expired)."))
    return FileResponse(
        stored.open("rb"),
        as_attachment=True,
        filename=job.download_filename,
        content_type="text/csv; charset=utf-8",
    )
