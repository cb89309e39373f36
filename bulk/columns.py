"""The columns of an import sheet: one per field people fill on a line (and its first contact
entry), in the steps' order, headed by the field's label.

A column is recognised by its label in French or in English, or by the field's name, however
it is spelt (case, accents, spaces, punctuation): a sheet made from the English template reads
the same in a French session, and a sheet made by hand with the field names too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation

from orders import catalogue
from orders.steps import STEPS

# Every field people fill, each once ("End customer name" is both the line's and the contact
# entry's: one column). The options are one column: ids separated by commas.
COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(name for step in STEPS for name in step.field_names))
LINE_COLUMNS = frozenset(name for step in STEPS for name in step.line_fields)
CONTACT_COLUMNS = frozenset(name for step in STEPS for name in step.contact_fields)


def header(name: str) -> str:
    """The column's heading in the active language: the field's label."""
    return catalogue.label(name)


def headers() -> list[str]:
    return [header(name) for name in COLUMNS]


def spelling(text: str) -> str:
    """A heading reduced to what tells it apart: no case, accents, spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", plain.casefold())


def _known_spellings() -> dict[str, str]:
    known: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for name in COLUMNS:
                known.setdefault(spelling(header(name)), name)
    for name in COLUMNS:
        known.setdefault(spelling(name), name)
    return known


@dataclass
class ColumnMatch:
    """Which field each column of the sheet holds (None: not one of ours)."""

    fields: list[str | None]
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)

    @property
    def found(self) -> list[str]:
        return [name for name in self.fields if name]


def match_headers(cells: Iterable[object]) -> ColumnMatch:
    known = _known_spellings()
    fields: list[str | None] = []
    unknown: list[str] = []
    repeated: list[str] = []
    seen: set[str] = set()
    for cell in cells:
        text = "" if cell is None else str(cell).strip()
        name = known.get(spelling(text)) if text else None
        if name is not None and name in seen:
            repeated.append(text)
            name = None
        elif name is None and text:
            unknown.append(text)
        if name:
            seen.add(name)
        fields.append(name)
    missing = [name for name in COLUMNS if name not in seen]
    return ColumnMatch(fields=fields, unknown=unknown, missing=missing, repeated=repeated)
