"""The web server's access log never records query strings: a search for a customer's name
(`?search=…`) is personal data."""

from __future__ import annotations

import runpy
import shlex
from pathlib import Path

from django.conf import settings


def web_command() -> list[str]:
    procfile = Path(settings.BASE_DIR) / "Procfile"
    line = next(x for x in procfile.read_text().splitlines() if x.startswith("web:"))
    return shlex.split(line.removeprefix("web:"))


def gunicorn_settings() -> dict[str, object]:
    """The settings the Procfile's web line gives gunicorn (its --config file)."""
    argv = web_command()
    assert "--config" in argv
    return runpy.run_path(str(Path(settings.BASE_DIR) / argv[argv.index("--config") + 1]))


def test_the_access_log_format_has_the_path_without_its_query_string() -> None:
    assert "--access-logformat" not in web_command()  # one place: the config file
    log_format = gunicorn_settings()["access_log_format"]
    assert isinstance(log_format, str)
    assert "%(U)s" in log_format  # the path alone
    # The request line, the query string and the referer would all carry `?search=…`.
    for leaking in ("%(r)s", "%(q)s", "%(f)s", "%({"):
        assert leaking not in log_format


def test_the_web_server_runs_one_process_per_core_with_threads(monkeypatch) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("WEB_THREADS", raising=False)
    conf = gunicorn_settings()
    assert conf["worker_class"] == "gthread"
    assert conf["workers"] >= 1 and conf["threads"] == 4
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert gunicorn_settings()["workers"] == 3
