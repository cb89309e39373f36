"""Reading sheets: every bad file gets its message, both encodings, any delimiter."""

from __future__ import annotations

import pytest
from bulk_data import csv_bytes, row, xlsx_bytes

from bulk import sheets


def read(content: bytes, name: str = "lines.csv", max_rows: int = 5000) -> sheets.Sheet:
    return sheets.read_sheet(content, name, max_rows=max_rows)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_any_common_delimiter(delimiter):
    sheet = read(csv_bytes([row()], delimiter=delimiter))
    assert len(sheet.rows) == 1
    assert "Épicerie Zoé" in sheet.rows[0][1]


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("cp1252", False)]
)
def test_utf8_with_or_without_bom_and_windows_1252(encoding, bom):
    sheet = read(csv_bytes([row(city="Saint-Étienne")], encoding=encoding, bom=bom))
    assert "Saint-Étienne" in sheet.rows[0][1]
    assert sheet.header[0] == "Product offering identifier"


def test_xlsx_read_streaming_with_its_formulas_as_text():
    sheet = read(xlsx_bytes([["Postcode", "City"], ["=1+1", "Rouen"]]), "lines.xlsx")
    assert sheet.rows == [(2, ["=1+1", "Rouen"])]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "lines.csv", "The file is empty."),
        (b"\n\n  \n", "lines.csv", "The file is empty."),
        (b"Postcode,City\n", "lines.csv", "no rows below its header"),
        (b'Postcode,City\n76130,"Rouen', "lines.csv", "ends in the middle of a value"),
        ("Postcode,City\n76130,Saint-É".encode()[:-1], "lines.csv", "cut short"),
        (b"%PDF-1.4\x00\x01\x02binary", "lines.csv", "not a spreadsheet"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "lines.xlsx", "not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "lines.xls", "old Excel file"),
        (b"whatever", "lines.pdf", "Send a .csv or .xlsx file."),
    ],
)
def test_bad_files_get_a_clear_message(content, name, message):
    with pytest.raises(sheets.SheetError) as caught:
        read(content, name)
    assert message in caught.value.message


def test_a_truncated_xlsx_is_damaged():
    content = xlsx_bytes([["Postcode"], ["76130"]])
    with pytest.raises(sheets.SheetError) as caught:
        read(content[: len(content) // 2], "lines.xlsx")
    assert "damaged or incomplete" in caught.value.message


def test_more_rows_than_allowed():
    with pytest.raises(sheets.SheetError) as caught:
        read(csv_bytes([row(), row(), row()]), max_rows=2)
    assert "more than 2 rows" in caught.value.message


def test_sniffing_ignores_delimiters_inside_quotes():
    assert sheets.sniff_delimiter('"a,b";"c,d";e\n') == ";"


def test_array_formulas_read_as_formulas():
    from openpyxl.worksheet.formula import ArrayFormula

    sheet = read(xlsx_bytes([["City"], [ArrayFormula("A2", "=SUM(B1:B2)")]]), "a.xlsx")
    assert sheet.rows[0][1][0].startswith("=")
