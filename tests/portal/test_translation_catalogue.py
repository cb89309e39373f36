"""The catalogue check that `make test` runs, and proof that it catches what it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import translations


def test_the_french_catalogue_is_complete_typeset_and_compiled() -> None:
    assert translations.all_problems() == []


def test_the_catalogue_holds_the_portals_strings() -> None:
    # Guards the test above: an extractor that found nothing would pass it vacuously.
    found = translations.extract()
    assert len(found) > 300
    assert any(path.startswith("templates/") for m in found.values() for path in m.locations)
    assert any(path.startswith("orders/") for m in found.values() for path in m.locations)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "orders").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        '{% load i18n %}<h1>{% translate "Order sessions" %}</h1>'
        "{% blocktranslate count counter=n trimmed %}{{ counter }} line"
        "{% plural %}{{ counter }} lines{% endblocktranslate %}",
        encoding="utf-8",
    )
    (tmp_path / "orders" / "texts.py").write_text(
        "from django.utils.translation import gettext_lazy as _, pgettext_lazy\n"
        'SAVED = _("Saved: %(name)s")\n'
        'STATE = pgettext_lazy("line state", "Open")\n',
        encoding="utf-8",
    )
    return tmp_path


FRENCH = {
    "Order sessions": "Sessions de commande",
    "%(counter)s line": {
        "plural": "%(counter)s lines",
        "msgstr": ["%(counter)s ligne", "%(counter)s lignes"],
    },
    "Saved: %(name)s": "Enregistré\u00a0: %(name)s",
    "line state\x04Open": "Ouverte",
}


def _ready(project: Path, french: dict[str, object]) -> None:
    translations.update("fr", root=project, translations=french)
    translations.compile_catalogue("fr", root=project)


def test_a_complete_catalogue_has_no_problem(project: Path) -> None:
    _ready(project, FRENCH)
    assert translations.problems("fr", root=project) == []
    catalogue = translations.read_catalogue(translations.catalogue_path("fr", root=project))
    assert catalogue.get("Open", context="line state").string == "Ouverte"
    assert catalogue.get("%(counter)s line").string == ("%(counter)s ligne", "%(counter)s lignes")


def test_a_new_string_is_missing_until_the_catalogue_is_updated(project: Path) -> None:
    _ready(project, FRENCH)
    page = project / "templates" / "page.html"
    page.write_text(page.read_text() + '{% translate "Exports" %}', encoding="utf-8")
    assert translations.problems("fr", root=project) == [
        "missing from the catalogue: 'Exports' (templates/page.html)"
    ]
    translations.update("fr", root=project)
    assert "untranslated: 'Exports'" in translations.problems("fr", root=project)


def test_a_string_gone_from_the_sources_is_stale(project: Path) -> None:
    _ready(project, FRENCH)
    (project / "orders" / "texts.py").write_text("", encoding="utf-8")
    found = translations.problems("fr", root=project)
    assert "stale: 'Saved: %(name)s' is no longer in the sources" in found


def test_a_compiled_file_that_does_not_match_its_catalogue_is_stale(project: Path) -> None:
    _ready(project, FRENCH)
    translations.update("fr", root=project)  # unchanged: still matches
    assert translations.problems("fr", root=project) == []
    po = translations.catalogue_path("fr", root=project)
    po.write_text(po.read_text().replace("Sessions de commande", "Sessions"), encoding="utf-8")
    assert translations.problems("fr", root=project) == [
        "locale/fr/LC_MESSAGES/django.mo does not match its catalogue: "
        "run `manage.py translations compile`."
    ]


@pytest.mark.parametrize(
    ("translation", "problem"),
    [
        ("Enregistré : %(name)s", "French typography"),
        ('Enregistré\u00a0: "%(name)s"', "French typography"),
        ("Enregistré\u00a0: %(nom)s", "placeholders differ"),
        ("", "untranslated"),
    ],
)
def test_bad_translations_are_reported(project: Path, translation: str, problem: str) -> None:
    _ready(project, {**FRENCH, "Saved: %(name)s": translation})
    found = translations.problems("fr", root=project)
    assert len(found) == 1 and found[0].startswith(problem), found
