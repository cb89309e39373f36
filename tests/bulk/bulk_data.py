"""Sheets for the import tests: rows as the template's columns, written as CSV or XLSX."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence

from django.utils import translation
from openpyxl import Workbook

from bulk import columns
from bulk.services import example_values


def row(**changes: str) -> dict[str, str]:
    values = example_values()
    values.update({"end_customer_name": "Épicerie Zoé", **changes})
    return values


def headers(language: str = "en") -> list[str]:
    with translation.override(language):
        return columns.headers()


def table(rows: Sequence[dict[str, str]], language: str = "en") -> list[list[str]]:
    return [headers(language)] + [[r.get(name, "") for name in columns.COLUMNS] for r in rows]


def csv_bytes(
    rows: Sequence[dict[str, str]],
    *,
    language: str = "en",
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(table(rows, language))
    data = buffer.getvalue().encode(encoding)
    return (codecs.BOM_UTF8 + data) if bom else data


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for cells in rows:
        sheet.append(list(cells))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
