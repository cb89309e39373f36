"""Import pages of a session: the template, the upload, the preview (fixed cell by cell with
htmx), the import itself and the export of the session's lines. Thin: selectors read, services
write. Every view finds the session through orders.selectors first (another user's session
answers 404 whatever the method), then checks the method."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bulk import columns, forms, selectors, services, sheets
from bulk.models import ImportBatch
from orders import catalogue
from orders import selectors as order_selectors
from orders.services.errors import OrderError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PAGE_SIZE = 100


class AuthenticatedRequest(HttpRequest):
    user: User


def _not_allowed(request: HttpRequest, *methods: str) -> HttpResponse | None:
    return None if request.method in methods else HttpResponseNotAllowed(methods)


def _download(content: bytes, fmt: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=sheets.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.{fmt}") or ""
    return response


def _format(fmt: str) -> str:
    if fmt not in sheets.FORMATS:
        raise Http404
    return fmt


def template(request: AuthenticatedRequest, session_pk: int, fmt: str) -> HttpResponse:
    session = order_selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    fmt = _format(fmt)
    return _download(selectors.template_file(fmt), fmt, f"{session.external_id}-template")


def export_lines(request: AuthenticatedRequest, session_pk: int, fmt: str) -> HttpResponse:
    session = order_selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    fmt = _format(fmt)
    return _download(selectors.export_file(session, fmt), fmt, f"{session.external_id}-lines")


def upload(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    session = order_selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "GET", "HEAD", "POST"):
        return response
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    locked = order_selectors.is_locked(session)
    if request.method == "POST" and not locked and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            batch = services.start_import(
                user=request.user,
                session=session,
                file_name=upload_file.name or "",
                content=upload_file.read(),
            )
        except OrderError as exc:
            form.add_error(None, str(exc))
        else:
            if batch.status == ImportBatch.Status.FAILED:
                form.add_error("file", batch.error)
            else:
                return redirect("bulk:preview", session.pk, batch.pk)
    context = {
        "session": session,
        "form": form,
        "locked": locked,
        "max_rows": settings.BULK_IMPORT_MAX_ROWS,
        "max_mb": settings.BULK_IMPORT_MAX_UPLOAD_MB,
        "line_count": len(order_selectors.live_lines(session)),
    }
    return render(request, "bulk/upload.html", context, status=400 if form.errors else 200)


def hint(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    """The session page's import hint, polled while an upload is being read."""
    session = order_selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    context = selectors.hint_context(session, locked=order_selectors.is_locked(session))
    return render(request, "bulk/partials/session_hint.html", context)


def _preview_context(request: HttpRequest, batch: ImportBatch) -> dict[str, object]:
    problems_only = request.GET.get("rows") == "problems"
    rows = selectors.preview_rows(batch, problems_only=problems_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "session": batch.session,
        "batch": batch,
        "page": page,
        "problems_only": problems_only,
        "columns": [(name, columns.header(name)) for name in columns.COLUMNS],
        "unknown": batch.unknown_columns,
        "missing": [catalogue.label(name) for name in batch.missing_columns],
        "earlier": services.earlier_import(batch),
        "import_form": forms.ImportForm(),
    }


def preview(request: AuthenticatedRequest, session_pk: int, batch_pk: int) -> HttpResponse:
    session = order_selectors.session_for(request.user, session_pk)
    batch = selectors.batch_for(session, batch_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    return render(request, "bulk/preview.html", _preview_context(request, batch))


def progress(request: AuthenticatedRequest, session_pk: int, batch_pk: int) -> HttpResponse:
    """Polled while a large file is read; once it is, the page reloads into the preview."""
    session = order_selectors.session_for(request.user, session_pk)
    batch = selectors.batch_for(session, batch_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    response = render(request, "bulk/partials/progress.html", {"session": session, "batch": batch})
    if batch.status != ImportBatch.Status.READING:
        response["HX-Refresh"] = "true"
    return response


def fix_cell(
    request: AuthenticatedRequest, session_pk: int, batch_pk: int, index: int
) -> HttpResponse:
    """One cell changed in the preview (htmx): its row is checked again and sent back."""
    session = order_selectors.session_for(request.user, session_pk)
    batch = selectors.batch_for(session, batch_pk)
    if response := _not_allowed(request, "POST"):
        return response
    name = request.POST.get("field", "")
    try:
        row = services.fix_cell(
            batch=batch, index=index, name=name, value=request.POST.get("value", "")
        )
    except OrderError as exc:
        if not request.headers.get("HX-Request"):
            messages.error(request, str(exc))
            return redirect("bulk:preview", session.pk, batch.pk)
        return HttpResponse(str(exc), status=409)
    if not request.headers.get("HX-Request"):
        return redirect("bulk:preview", session.pk, batch.pk)
    batch.refresh_from_db(fields=["valid_rows"])
    # Where the keyboard goes next: the cell still wrong, else the row's next problem, else
    # the row itself ("" focuses its header).
    focus = name if name in row.errors else next(iter(sorted(row.errors)), "")
    context = {
        "session": session,
        "batch": batch,
        "row": row,
        "columns": [(name, columns.header(name)) for name in columns.COLUMNS],
        "oob": True,
        "focus": focus,
        "fixed": True,
    }
    return render(request, "bulk/partials/row.html", context)


def confirm_import(request: AuthenticatedRequest, session_pk: int, batch_pk: int) -> HttpResponse:
    session = order_selectors.session_for(request.user, session_pk)
    batch = selectors.batch_for(session, batch_pk)
    if response := _not_allowed(request, "POST"):
        return response
    form = forms.ImportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose which rows to import."))
        return redirect("bulk:preview", session.pk, batch.pk)
    try:
        result = services.import_rows(
            user=request.user,
            batch=batch,
            policy=form.cleaned_data["policy"],
            again=form.cleaned_data["again"],
        )
    except OrderError as exc:
        messages.error(request, str(exc))
        return redirect("bulk:preview", session.pk, batch.pk)
    text = ngettext(
        "%(count)s line imported: it is being sent to Covage.",
        "%(count)s lines imported: they are being sent to Covage.",
        len(result.created),
    ) % {"count": len(result.created)}
    if result.left_out:
        text += " " + ngettext(
            "%(count)s row with problems was left out.",
            "%(count)s rows with problems were left out.",
            result.left_out,
        ) % {"count": result.left_out}
    messages.success(request, text)
    return redirect("orders:session", session.pk)


def cancel(request: AuthenticatedRequest, session_pk: int, batch_pk: int) -> HttpResponse:
    session = order_selectors.session_for(request.user, session_pk)
    batch = selectors.batch_for(session, batch_pk)
    if response := _not_allowed(request, "POST"):
        return response
    services.cancel_import(batch=batch)
    messages.info(request, _("The import was cancelled: nothing was saved."))
    return redirect("orders:session", session.pk)
