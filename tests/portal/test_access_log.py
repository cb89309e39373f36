"""The web server's access log never records query strings: a search for a customer's name
(`?search=…`) is personal data."""

from __future__ import annotations

import shlex
from pathlib import Path

from django.conf import settings


def web_command() -> list[str]:
    procfile = Path(settings.BASE_DIR) / "Procfile"
    line = next(x for x in procfile.read_text().splitlines() if x.startswith("web:"))
    return shlex.split(line.removeprefix("web:"))


def test_the_access_log_format_has_the_path_without_its_query_string() -> None:
    argv = web_command()
    assert "--access-logformat" in argv
    log_format = argv[argv.index("--access-logformat") + 1]
    assert "%(U)s" in log_format  # the path alone
    # The request line, the query string and the referer would all carry `?search=…`.
    for leaking in ("%(r)s", "%(q)s", "%(f)s", "%({"):
        assert leaking not in log_format
