"""`manage.py translations update|compile|check`: the catalogue with Python-only tools
(portal/translations.py says why)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import translations


class Command(BaseCommand):
    help = "Update, compile or check the translation catalogues (locale/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["update", "compile", "check"])
        parser.add_argument(
            "--from-json",
            action="append",
            default=[],
            metavar="FILE",
            help="update: fill new entries from a JSON object of msgid -> translation.",
        )

    def handle(self, *args: Any, action: str, from_json: list[str], **options: Any) -> None:
        for language in translations.TRANSLATED:
            if action == "update":
                given: dict[str, object] = {}
                for name in from_json:
                    given.update(json.loads(Path(name).read_text(encoding="utf-8")))
                entries, untranslated = translations.update(language, translations=given)
                self.stdout.write(f"{language}: {entries} entries, {untranslated} untranslated")
            elif action == "compile":
                path = translations.compile_catalogue(language)
                self.stdout.write(f"{language}: wrote {path}")
            else:
                found = translations.problems(language)
                for problem in found:
                    self.stderr.write(f"[{language}] {problem}")
                if found:
                    raise CommandError(f"{len(found)} problem(s) in the {language} catalogue.")
                self.stdout.write(f"{language}: catalogue complete and compiled.")
