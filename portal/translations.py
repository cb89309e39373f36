"""The portal's translation catalogue, kept with Python-only tools (Babel), so that a fresh
clone needs nothing that pip cannot install: Django's makemessages and compilemessages call
GNU gettext, which a machine with only Python does not have.

- `extract()` finds every marked string: Python modules through Babel's extractor, templates
  through Django's own `templatize` (the same translation that makemessages feeds xgettext).
- `update()` rewrites the French catalogue from the sources, keeping translations already made.
- `compile_catalogue()` writes the .mo file Django reads; it is committed, so a fresh clone has it.
- `problems()` is what `make test` checks: a string missing from the catalogue or left in it
  after its source went, an empty or fuzzy translation, a placeholder that differs, French
  typography, and a compiled file that does not match its catalogue.

Run `manage.py translations update` after changing marked strings, translate the new entries
in locale/fr/LC_MESSAGES/django.po, then `manage.py translations compile`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from babel.messages import extract as babel_extract
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.conf import settings
from django.utils.translation.template import templatize

# The languages that have a catalogue: the sources are written in English.
TRANSLATED = ("fr",)
SOURCE_DIRS = (
    "portal",
    "covage",
    "orders",
    "exports",
    "reconciliation",
    "dashboard",
    "notifications",
    "directory",
    "bulk",
    "templates",
)
SKIPPED_PARTS = {"migrations", "__pycache__", "tests"}

# Django's lazy and no-op variants on top of Babel's defaults (gettext, ngettext, pgettext...).
KEYWORDS: dict[str, object] = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfir]|%[sdfir]|\{\w*\}")
# French puts a non-breaking space before these signs; a plain space there breaks the line
# before the sign in a narrow column.
_SPACE_BEFORE_SIGN = re.compile(r" [:;!?»]|« ")
_TAG = re.compile(r"<[^>]*>")


@dataclass
class Message:
    msgid: str
    context: str | None = None
    plural: str | None = None
    locations: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


def base_dir() -> Path:
    return Path(settings.BASE_DIR)


def catalogue_path(language: str, *, root: Path | None = None) -> Path:
    return (root or base_dir()) / "locale" / language / "LC_MESSAGES" / "django.po"


def source_files(root: Path | None = None) -> Iterator[Path]:
    root = root or base_dir()
    for directory in SOURCE_DIRS:
        for path in sorted((root / directory).rglob("*")):
            if path.suffix not in {".py", ".html", ".txt"} or not path.is_file():
                continue
            if SKIPPED_PARTS & set(path.relative_to(root).parts):
                continue
            yield path


def _python_source(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return text
    # templatize() masks everything but the marked strings with X's, as input for xgettext;
    # Python's tokenizer (Babel's) also wants no indentation there.
    return "\n".join(line.lstrip() for line in templatize(text, origin=str(path)).splitlines())


def extract(root: Path | None = None) -> dict[tuple[str | None, str], Message]:
    """Every marked string of the sources, keyed by (context, msgid)."""
    root = root or base_dir()
    found: dict[tuple[str | None, str], Message] = {}
    for path in source_files(root):
        source = io.BytesIO(_python_source(path).encode("utf-8"))
        location = str(path.relative_to(root))
        for _lineno, text, _comments, context in babel_extract.extract(
            "python", source, keywords=KEYWORDS, options={"encoding": "utf-8"}
        ):
            singular, plural = (text[0], text[1]) if isinstance(text, tuple) else (text, None)
            if not singular:
                continue
            message = found.setdefault(
                (context, singular), Message(singular, context=context, plural=plural)
            )
            message.plural = message.plural or plural
            message.locations.add(location)
    return found


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


# Django's own French catalogue counts two forms (CLDR, Babel's default, has three).
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);"}
# Fixed header dates: a catalogue changes only when its entries do.
HEADER_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def _new_catalogue(language: str) -> Catalog:
    catalogue = Catalog(
        locale=language,
        header_comment=f"# {language} translations of the Covage portal (portal/translations.py).",
        project="Covage portal",
        version="1",
        msgid_bugs_address="",
        creation_date=HEADER_DATE,
        revision_date=HEADER_DATE,
        last_translator="Covage portal team",
        language_team=language,
        charset="utf-8",
        fuzzy=False,
    )
    if language in PLURAL_FORMS:
        catalogue.mime_headers = [("Plural-Forms", PLURAL_FORMS[language])]
    return catalogue


def update(
    language: str, *, root: Path | None = None, translations: dict[str, object] | None = None
) -> tuple[int, int]:
    """Rewrite a language's catalogue from the sources; returns (entries, untranslated).

    Translations already in the catalogue are kept; `translations` (msgid or
    "context\\x04msgid" -> msgstr, or {"plural": ..., "msgstr": [...]}) fills new ones.
    """
    root = root or base_dir()
    path = catalogue_path(language, root=root)
    previous = read_catalogue(path) if path.exists() else None
    catalogue = _new_catalogue(language)
    translations = translations or {}
    untranslated = 0
    for message in sorted(extract(root).values(), key=lambda m: (sorted(m.locations), m.msgid)):
        old = previous.get(message.msgid, context=message.context) if previous else None
        string: str | tuple[str, ...] = ""
        if old is not None and not old.fuzzy and _filled(old.string):
            string = old.string
        else:
            key = f"{message.context}\x04{message.msgid}" if message.context else message.msgid
            given = translations.get(key)
            if isinstance(given, dict):
                string = tuple(given.get("msgstr", ()))
            elif isinstance(given, str):
                string = given
        if message.plural:
            if isinstance(string, str):
                string = (string, string) if string else ("", "")
            msgid: str | tuple[str, str] = (message.msgid, message.plural)
        else:
            msgid = message.msgid
            if isinstance(string, tuple):
                string = string[0] if string else ""
        if not _filled(string):
            untranslated += 1
        catalogue.add(
            msgid,
            string,
            locations=[(location, None) for location in sorted(message.locations)],
            context=message.context,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalogue, width=100, omit_header=False, include_lineno=False)
    return len(catalogue), untranslated


def _filled(string: str | tuple[str, ...] | list[str]) -> bool:
    if isinstance(string, str):
        return bool(string)
    return bool(string) and all(string)


def compiled_bytes(catalogue: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalogue(language: str, *, root: Path | None = None) -> Path:
    path = catalogue_path(language, root=root)
    target = path.with_suffix(".mo")
    target.write_bytes(compiled_bytes(read_catalogue(path)))
    return target


def _singular(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _strings(string: str | tuple[str, ...] | list[str]) -> list[str]:
    return [string] if isinstance(string, str) else list(string)


def _placeholder_set(text: str) -> set[str]:
    return {match.group(0) for match in _PLACEHOLDER.finditer(text)}


def _placeholders_match(msgid: str | tuple[str, ...], strings: list[str]) -> bool:
    """A translation keeps the placeholders of its msgid; a plural's singular form may leave
    out the count ("une ligne" for "%(count)s line")."""
    if isinstance(msgid, str):
        return all(_placeholder_set(s) == _placeholder_set(msgid) for s in strings)
    singular, plural = _placeholder_set(msgid[0]), _placeholder_set(msgid[1])
    return _placeholder_set(strings[-1]) == plural and all(
        _placeholder_set(s) <= singular | plural for s in strings
    )


def problems(language: str, *, root: Path | None = None) -> list[str]:
    """What is wrong with a language's catalogue, in words; empty when it is complete."""
    root = root or base_dir()
    path = catalogue_path(language, root=root)
    if not path.exists():
        return [f"{path.relative_to(root)} is missing: run `manage.py translations update`."]
    catalogue = read_catalogue(path)
    found: list[str] = []
    sources = extract(root)
    in_catalogue = {(m.context or None, _singular(m.id)) for m in catalogue if m.id}
    for key, message in sorted(sources.items(), key=lambda item: item[1].msgid):
        if key not in in_catalogue:
            where = ", ".join(sorted(message.locations))
            found.append(f"missing from the catalogue: {message.msgid!r} ({where})")
    for entry in catalogue:
        if not entry.id:
            continue
        msgid = _singular(entry.id)
        if (entry.context or None, msgid) not in sources:
            found.append(f"stale: {msgid!r} is no longer in the sources")
            continue
        if entry.fuzzy:
            found.append(f"fuzzy: {msgid!r}")
        strings = _strings(entry.string)
        if not _filled(entry.string):
            found.append(f"untranslated: {msgid!r}")
            continue
        if not _placeholders_match(entry.id, strings):
            found.append(f"placeholders differ: {msgid!r} -> {strings!r}")
        for string in strings:
            prose = _TAG.sub("", string)
            if language == "fr" and (_SPACE_BEFORE_SIGN.search(prose) or '"' in prose):
                found.append(
                    f"French typography: {string!r} (a non-breaking space before : ; ! ? »"
                    " and after «, and « » instead of straight quotes)"
                )
    mo_path = path.with_suffix(".mo")
    if not mo_path.exists():
        found.append(
            f"{mo_path.relative_to(root)} is missing: run `manage.py translations compile`."
        )
    elif mo_path.read_bytes() != compiled_bytes(catalogue):
        found.append(
            f"{mo_path.relative_to(root)} does not match its catalogue: "
            "run `manage.py translations compile`."
        )
    return found


def all_problems(languages: Iterable[str] = TRANSLATED) -> list[str]:
    return [f"[{language}] {problem}" for language in languages for problem in problems(language)]
