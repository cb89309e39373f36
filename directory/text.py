"""How names are compared and searched: without case, accents or punctuation, so that
"Boulangerie Ça Déménage", "BOULANGERIE CA DEMENAGE" and "boulangerie ça-déménage" are one
name. Stored next to the name (`search_key`), so that searching is one indexed column."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def key(text: str) -> str:
    """`text` in lower case, without accents, words separated by one space."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_only = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", ascii_only.casefold()).strip()


def digits(text: str) -> str:
    return "".join(char for char in text or "" if char.isdigit())
