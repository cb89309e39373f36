"""Reading Covage's CSV export: the documented record of every session and line.

The Order Taking document says the export is "a CSV file containing the exported data" and
nothing of its columns. The portal reads it by header name, as the sandbox writes it: one row
per line (a session without lines gets one row with empty line columns), session columns
prefixed ``product_order_``, then the line's columns under their wire names, then the first
contact entry's columns prefixed ``contact_``. Both spellings of the documents are read
(``enni2``/``enni_2``, ``cpe_network_number``/``cpe_networking_number``); ``;`` or ``,``
separates cells; UTF-8 with or without a byte-order mark.

Rows are streamed: a 200 MB export is read in constant memory.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext

SESSION_PREFIX = "product_order_"
CONTACT_PREFIX = "contact_"
# The examples' spelling -> the tables' (the portal's) spelling.
ALIASES = {"enni2": "enni_2", "cpe_network_number": "cpe_networking_number"}
# A cell may hold a long free text; the csv module's default limit (128 KiB) is enough for
# any field Covage takes, and keeps a broken file from exhausting memory.
_SNIFF_BYTES = 4096


class ExportFormatError(ValueError):
    """The file is not an export the portal can read (no header, no session id column)."""


@dataclass
class ExportRow:
    """One row of the export: a session, and one of its lines when ``line_id`` is set.

    ``session`` holds the session columns without their prefix (``id``, ``external_id``,
    ``state``, ...); ``line`` the line's columns under the tables' names; ``contact`` the
    first contact entry's columns without their prefix. Every value is the cell's text.
    """

    session: dict[str, str]
    line: dict[str, str] = field(default_factory=dict)
    contact: dict[str, str] = field(default_factory=dict)

    @property
    def session_id(self) -> str:
        return self.session.get("id", "")

    @property
    def session_external_id(self) -> str:
        return self.session.get("external_id", "")

    @property
    def session_state(self) -> str:
        return self.session.get("state", "")

    @property
    def line_id(self) -> str:
        return self.line.get("id", "")

    @property
    def line_external_id(self) -> str:
        return self.line.get("external_id", "")

    @property
    def line_state(self) -> str:
        return self.line.get("state", "")

    def session_wire(self) -> dict[str, Any]:
        """The session's cells in the shape of the API's answers (for covage.schemas)."""
        return {name: (value or None) for name, value in self.session.items()}

    def line_wire(self) -> dict[str, Any]:
        """The line's cells in the shape of the API's answers: lists where the API has
        lists, the first contact entry, the termination errors the export lists."""
        wire: dict[str, Any] = dict(self.line)
        wire["option_ids"] = [item for item in self.line.get("option_ids", "").split("|") if item]
        errors = []
        for entry in self.line.get("termination_error", "").split("|"):
            if entry.strip():
                code, _, path = entry.partition(":")
                errors.append({"code": code, "property_path": path, "value": ""})
        wire["termination_error"] = errors
        if any(self.contact.values()):
            wire["related_contact_information"] = [dict(self.contact)]
        return wire


def _delimiter(sample: str) -> str:
    header = sample.splitlines()[0] if sample else ""
    return ";" if header.count(";") >= header.count(",") else ","


def _column(name: str) -> tuple[str, str]:
    """("session" | "line" | "contact", the field's name) for a header cell."""
    name = name.strip()
    if name.startswith(SESSION_PREFIX):
        return "session", name.removeprefix(SESSION_PREFIX)
    if name.startswith(CONTACT_PREFIX):
        return "contact", name.removeprefix(CONTACT_PREFIX)
    return "line", ALIASES.get(name, name)


def read_export(path: str | os.PathLike[str]) -> Iterator[ExportRow]:
    """The rows of an export file, one at a time."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(_SNIFF_BYTES)
        handle.seek(0)
        reader = csv.reader(handle, delimiter=_delimiter(sample))
        try:
            header = next(reader)
        except StopIteration:
            raise ExportFormatError(gettext("The export file is empty.")) from None
        columns = [_column(name) for name in header]
        if ("session", "id") not in columns:
            raise ExportFormatError(gettext("The export file has no product_order_id column."))
        for cells in reader:
            if not any(cells):
                continue
            row = ExportRow(session={})
            for (part, name), value in zip(columns, cells, strict=False):
                getattr(row, part)[name] = value
            if not row.line_id:
                row.line, row.contact = {}, {}
            yield row


def copy_sessions(
    source: str | os.PathLike[str], destination: IO[str], session_ids: set[str]
) -> int:
    """Copy the header and the rows of the sessions ``session_ids`` (Covage ids) from the
    export ``source`` to ``destination``, cells untouched; returns the rows copied."""
    copied = 0
    with open(source, encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(_SNIFF_BYTES)
        handle.seek(0)
        delimiter = _delimiter(sample)
        reader = csv.reader(handle, delimiter=delimiter)
        writer = csv.writer(destination, delimiter=delimiter, lineterminator="\r\n")
        try:
            header = next(reader)
        except StopIteration:
            raise ExportFormatError(gettext("The export file is empty.")) from None
        columns = [_column(name) for name in header]
        if ("session", "id") not in columns:
            raise ExportFormatError(gettext("The export file has no product_order_id column."))
        position = columns.index(("session", "id"))
        writer.writerow(header)
        for cells in reader:
            if len(cells) > position and cells[position] in session_ids:
                writer.writerow(cells)
                copied += 1
    return copied
