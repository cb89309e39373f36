"""Reading and writing import sheets: CSV and Excel (XLSX), nothing else.

Reading gives the header row and the data rows as Python values, whatever the file's delimiter
and encoding; a file that cannot be read raises SheetError with a message for the person who
sent it. Nothing here knows the fields: bulk.columns and bulk.services give the cells their
meaning.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DELIMITERS = (";", ",", "\t", "|")

EMPTY = _("The file is empty.")
NO_ROWS = _("The file has no rows below its header row.")
NOT_A_SHEET = _(
    "This file is not a spreadsheet the portal can read: send a CSV file or an Excel "
    "workbook (.xlsx), for example the template."
)
OLD_EXCEL = _(
    "This is an old Excel file (.xls): save it as an Excel workbook (.xlsx) or as CSV, then "
    "send it again."
)
DAMAGED_XLSX = _(
    "This Excel file is damaged or incomplete (was its upload cut short?): save it again "
    "from Excel, then send it again."
)
TRUNCATED_CSV = _(
    "This CSV file ends in the middle of a value (was it cut short?): check its last line, "
    "then send it again."
)
UNREADABLE_TEXT = _(
    "The portal cannot read the characters of this file: save it as CSV UTF-8, then send it again."
)
EXTENSIONS = _("Send a .csv or .xlsx file.")


class SheetError(ValueError):
    """The file cannot be read as a sheet; the message says why, for the person who sent it."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


@dataclass
class Sheet:
    header: list[Any]
    # (row number in the file, cells) for each row that holds anything.
    rows: list[tuple[int, list[Any]]]


def kind(file_name: str) -> str:
    """CSV or XLSX by the file name's extension; SheetError for any other."""
    lowered = file_name.lower()
    if lowered.endswith(".xlsx"):
        return XLSX
    if lowered.endswith((".csv", ".txt", ".tsv")):
        return CSV
    if lowered.endswith(".xls"):
        raise SheetError(OLD_EXCEL)
    raise SheetError(EXTENSIONS)


def read_sheet(content: bytes, file_name: str, *, max_rows: int) -> Sheet:
    """The header row and the rows of a CSV or XLSX file (empty rows left out)."""
    if not content:
        raise SheetError(EMPTY)
    expected = kind(file_name)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise SheetError(OLD_EXCEL)
    is_zip = content.startswith(b"PK\x03\x04")
    if expected == XLSX or is_zip:
        if not is_zip:
            raise SheetError(NOT_A_SHEET)
        rows: Iterator[Sequence[Any]] = _xlsx_rows(content)
    else:
        rows = _csv_rows(content)
    return _collect(rows, max_rows=max_rows)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _collect(rows: Iterator[Sequence[Any]], *, max_rows: int) -> Sheet:
    header: list[Any] | None = None
    data: list[tuple[int, list[Any]]] = []
    for number, cells in enumerate(rows, start=1):
        if all(_blank(cell) for cell in cells):
            continue
        if header is None:
            header = list(cells)
            continue
        if len(data) >= max_rows:
            raise SheetError(
                ngettext(
                    "The file has more than %(max)s row: split it into several files.",
                    "The file has more than %(max)s rows: split it into several files.",
                    max_rows,
                )
                % {"max": max_rows}
            )
        data.append((number, list(cells)))
    if header is None:
        raise SheetError(EMPTY)
    if not data:
        raise SheetError(NO_ROWS)
    return Sheet(header=header, rows=data)


# --- XLSX --------------------------------------------------------------------------------------


def _xlsx_rows(content: bytes) -> Iterator[Sequence[Any]]:
    """The first worksheet's rows, streamed (read-only). Formula cells come as their formula
    text ("=SUM(...)"), never as a computed value: the import refuses them."""
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SheetError(DAMAGED_XLSX) from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise SheetError(DAMAGED_XLSX) from exc
    try:
        if not workbook.worksheets:
            raise SheetError(EMPTY)
        worksheet = workbook.worksheets[0]
        try:
            for cells in worksheet.iter_rows(values_only=True):
                yield [_plain(value) for value in cells]
        except SheetError:
            raise
        except Exception as exc:  # a part cut short shows while streaming
            raise SheetError(DAMAGED_XLSX) from exc
    finally:
        workbook.close()


PLAIN_TYPES = (str, int, float, bool, dt.date, dt.datetime, dt.time)


def _plain(value: Any) -> Any:
    """A cell's value; an array or table formula (an object, not a value) as its "=" text,
    so that it is refused like any formula."""
    if value is None or isinstance(value, PLAIN_TYPES):
        return value
    text = str(getattr(value, "text", "") or "")
    return text if text.startswith("=") else "=" + text


# --- CSV ---------------------------------------------------------------------------------------


def decode(content: bytes) -> str:
    """UTF-8 (with or without its BOM), UTF-16 with its BOM, else Windows-1252."""
    if content.startswith(codecs.BOM_UTF8):
        return _strict(content[len(codecs.BOM_UTF8) :], "utf-8")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(content, "utf-16")
    if b"\x00" in content:
        raise SheetError(NOT_A_SHEET)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            raise SheetError(TRUNCATED_CSV) from exc
    text = _strict(content, "cp1252")
    if any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text):
        raise SheetError(NOT_A_SHEET)
    return text


def _strict(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            raise SheetError(TRUNCATED_CSV) from exc
        raise SheetError(UNREADABLE_TEXT) from exc


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header row: the one it holds most of (outside quotes)."""
    first = text.split("\n", 1)[0]
    outside = "".join(part for index, part in enumerate(first.split('"')) if index % 2 == 0)
    counts = {delimiter: outside.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _csv_rows(content: bytes) -> Iterator[Sequence[Any]]:
    text = decode(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    try:
        yield from reader
    except csv.Error as exc:
        raise SheetError(TRUNCATED_CSV if "end of data" in str(exc) else NOT_A_SHEET) from exc


# --- Writing -----------------------------------------------------------------------------------


def write_csv(header: Sequence[str], rows: Iterable[Sequence[str]], *, delimiter: str) -> bytes:
    """UTF-8 with its BOM, so that Excel shows the accents right."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def write_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    choices: Mapping[int, Sequence[str]],
    title: str,
    lists_title: str,
    prompt: str,
) -> bytes:
    """One worksheet (streamed, write-only): the header row in bold, then the rows; every
    cell is text (a value beginning with "=" stays a value, never a formula). Columns with
    `choices` (index -> values) get a drop-down of their values, kept on a hidden sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    lists = workbook.create_sheet(lists_title[:31]) if choices else None
    sheet.freeze_panes = "A2"
    for index, text in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(text) + 2))
    last_row = 5000 + 1
    for position, (index, values) in enumerate(sorted(choices.items()), start=1):
        if not values or lists is None:
            continue
        column = get_column_letter(position)
        reference = f"'{lists.title}'!${column}$1:${column}${len(values)}"
        validation = DataValidation(
            type="list",
            formula1=reference,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            promptTitle=header[index][:32],
            prompt=prompt,
            showInputMessage=True,
        )
        target = get_column_letter(index + 1)
        validation.add(f"{target}2:{target}{last_row}")
        sheet.data_validations.append(validation)
    bold = Font(bold=True)
    sheet.append([_cell(sheet, text, font=bold) for text in header])
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    if lists is not None:
        columns = [list(values) for _index, values in sorted(choices.items())]
        depth = max((len(values) for values in columns), default=0)
        for depth_index in range(depth):
            lists.append(
                [values[depth_index] if depth_index < len(values) else None for values in columns]
            )
        lists.sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: Any, value: Any, *, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even when it begins with "="
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    if font is not None:
        cell.font = font
    return cell
