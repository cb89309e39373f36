"""What the browser tests check on every page: axe-core, and which language the page speaks.

- `assert_accessible(page, where)` runs axe-core (axe-playwright-python) on the page and fails
  with every violation whose impact is serious or critical: rule, impact and the nodes' targets.
- `read_vocabulary(french_catalogue())` gives the literal strings of the French catalogue: each
  English msgid and French msgstr that differ, once markup is stripped, with no placeholder and
  of three words or more (the `vocabulary` fixture of conftest.py reads it once).
  `assert_speaks(page, language, vocabulary, where)` checks `<html lang>` and that the page's
  visible text holds none of the other language's strings and at least one of its own.
- `tr(language, msgid, **values)` is a text as the portal shows it in that language (Django's
  gettext on the compiled catalogue, markup stripped), for locators that work in both languages.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation

# The browser's language for each of the portal's languages (Playwright's `locale`, which sets
# navigator.language and the Accept-Language header).
BROWSER_LOCALES = {"en": "en-GB", "fr": "fr-FR"}
FAILING_IMPACTS = ("serious", "critical")
MIN_WORDS = 3
MIN_ENTRIES = 300

_TAG = re.compile(r"<[^>]*>")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdfir]|%[sdfir]|\{\w*\}")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


# --- axe-core ---------------------------------------------------------------------------------

_axe = Axe()


def axe_problems(page: Any) -> list[str]:
    """The serious and critical axe-core violations of the page, one line per rule."""
    results = _axe.run(page)
    problems = []
    for violation in results.response.get("violations", []):
        if violation.get("impact") not in FAILING_IMPACTS:
            continue
        targets = [
            " ".join(str(part) for part in node.get("target", []))
            for node in violation.get("nodes", [])
        ]
        problems.append(
            f"{violation['id']} ({violation['impact']}): {violation.get('help', '')}"
            f" — {len(targets)} node(s): {'; '.join(targets)}"
        )
    return problems


def assert_accessible(page: Any, where: str) -> None:
    problems = axe_problems(page)
    assert not problems, f"axe-core on {where} ({page.url}):\n" + "\n".join(problems)


# --- Languages --------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """One plain space for any run of spaces, non-breaking or not."""
    return _SPACES.sub(" ", text).strip()


def literal(text: str) -> str | None:
    """The catalogue string as a page shows it, or None when it has a placeholder (it is then
    not a literal text to look for)."""
    if _PLACEHOLDER.search(text):
        return None
    return normalise(html.unescape(_TAG.sub("", text)))


@dataclass(frozen=True)
class Vocabulary:
    english: frozenset[str]
    french: frozenset[str]

    def own(self, language: str) -> frozenset[str]:
        return self.french if language == "fr" else self.english

    def other(self, language: str) -> frozenset[str]:
        return self.english if language == "fr" else self.french


def read_vocabulary(path: Path) -> Vocabulary:
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    english: set[str] = set()
    french: set[str] = set()
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            continue
        # Singular with the first form, plural with the last.
        pairs = [(ids[0], strings[0])] + ([(ids[-1], strings[-1])] if len(ids) > 1 else [])
        for msgid, msgstr in pairs:
            source, translated = literal(msgid), literal(msgstr)
            if source is None or translated is None or source == translated:
                continue
            if len(source.split()) >= MIN_WORDS:
                english.add(source)
            if len(translated.split()) >= MIN_WORDS:
                french.add(translated)
    return Vocabulary(frozenset(english), frozenset(french))


def french_catalogue() -> Path:
    return Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def assert_speaks(
    page: Any, language: str, vocabulary: Vocabulary, where: str, *, own_text: bool = True
) -> None:
    """`<html lang>` is the language, and the visible text is in that language only."""
    assert page.locator("html").get_attribute("lang") == language, f"<html lang> on {where}"
    other = vocabulary.other(language)
    # Guards against a vacuous check: a catalogue with (almost) nothing translated.
    assert len(other) > MIN_ENTRIES, (
        f"the French catalogue has {len(other)} literal strings of {MIN_WORDS}+ words"
        f" translated, not more than {MIN_ENTRIES}: nothing to check {where} against"
    )
    text = normalise(page.inner_text("body") + "\n" + page.title())
    found = sorted(string for string in other if string in text)
    assert not found, f"{where} in {language} shows the other language's words: {found}"
    if own_text:
        assert any(string in text for string in vocabulary.own(language)), (
            f"{where} in {language} shows none of its language's strings from the catalogue"
        )


def tr(language: str, msgid: str, plural: str | None = None, **values: Any) -> str:
    """The text the portal shows for `msgid` in `language`, as a browser reads it."""
    with translation.override(language):
        if plural is None:
            text = translation.gettext(msgid)
        else:
            text = translation.ngettext(msgid, plural, values.get("counter", 1))
    if values:
        text = text % values
    return normalise(html.unescape(_TAG.sub("", text)))
