"""Reads of the bulk app: an upload the user may see, the sheets the portal writes (template
and export of a session's lines) and the rows of a preview page."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language, gettext

from bulk import columns, sheets
from bulk.models import ImportBatch, ImportRow
from bulk.services import example_values, line_values, yes_no
from orders import referentials, selectors
from orders.forms import OFFER_FAMILIES
from orders.models import OrderSession


def batch_for(session: OrderSession, pk: int) -> ImportBatch:
    """An upload of a session the user may see (the caller got it through orders.selectors)."""
    return get_object_or_404(ImportBatch.objects.select_related("session"), pk=pk, session=session)


def pending_batches(session: OrderSession) -> list[ImportBatch]:
    """Uploads of the session still being read or waiting for the user's decision."""
    return list(
        ImportBatch.objects.filter(
            session=session, status__in=[ImportBatch.Status.READING, ImportBatch.Status.READY]
        ).only("pk", "file_name", "status", "total_rows", "processed_rows", "valid_rows")[:5]
    )


def hint_context(session: OrderSession, *, locked: bool) -> dict[str, object]:
    pending = pending_batches(session)
    return {
        "session": session,
        "locked": locked,
        "pending": pending,
        "reading": any(batch.status == ImportBatch.Status.READING for batch in pending),
    }


def choices() -> dict[int, list[str]]:
    """The drop-down values of the columns that have a list (by column index)."""
    lists: dict[str, list[str]] = {
        "offer_family": list(OFFER_FAMILIES),
        "siret_known": [yes_no(True), yes_no(False)],
    }
    projects = referentials.projects()
    if projects.available:
        lists["project_id"] = [project.code for project in projects.items]
    stored = referentials.all_ennis()
    if stored.available:
        ennis = sorted({enni.reference for enni in stored.items})
        lists["enni"] = lists["enni_2"] = ennis
        lists["delivery_mode"] = list(referentials.delivery_modes(stored=stored).items)
    return {columns.COLUMNS.index(name): values for name, values in lists.items() if values}


def _delimiter() -> str:
    # What Excel expects where the language is spoken: ";" in French, "," in English.
    return ";" if (get_language() or "").startswith("fr") else ","


def sheet_file(fmt: str, rows: Sequence[dict[str, str]]) -> bytes:
    header = columns.headers()
    cells = [[row.get(name, "") for name in columns.COLUMNS] for row in rows]
    if fmt == sheets.CSV:
        return sheets.write_csv(header, cells, delimiter=_delimiter())
    return sheets.write_xlsx(
        header,
        cells,
        choices=choices(),
        title=gettext("Lines"),
        lists_title=gettext("Lists"),
        prompt=gettext("Choose from the list."),
    )


def template_file(fmt: str) -> bytes:
    return sheet_file(fmt, [example_values()])


def export_file(session: OrderSession, fmt: str) -> bytes:
    rows = [
        line_values(line, selectors.first_contact(line)) for line in selectors.live_lines(session)
    ]
    return sheet_file(fmt, rows)


def preview_rows(batch: ImportBatch, *, problems_only: bool) -> QuerySet[ImportRow]:
    rows = batch.sheet_rows.order_by("index")
    return rows.filter(valid=False) if problems_only else rows
