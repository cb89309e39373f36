"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

TOKEN_PATH = "/auth/realms/covage/protocol/openid-connect/token"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On SQLite, the test database is a file in this run's temporary folder instead of
    Django's in-memory default: the real-worker tests' `celery worker` process opens it too,
    as `make run`'s processes share var/db.sqlite3 (WAL, IMMEDIATE transactions and the busy
    timeout of portal/settings.py apply to it)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"] == "django.db.backends.sqlite3" and not test.get("NAME"):
        test["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _english_unless_asked(settings: Any) -> None:
    """The suite reads the English texts (the msgids); a new installation defaults to French,
    which tests/portal/test_page_languages.py proves, and the French tests ask for it."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # The Covage token lives in the cache: one test's token must not leak into the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_inline() -> Iterator[None]:
    """Tasks run inline, right after the commit that queued them, so nothing reaches a broker
    unless a test starts a real worker (tests marked `worker` switch this off)."""
    from portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def sandbox_url(live_server: Any, settings: Any) -> str:
    """A live server answering as both portal and Covage sandbox, with the client pointed at it.

    Everything above the Covage client talks to this over real HTTP.
    """
    settings.ROOT_URLCONF = "portal.urls_with_sandbox"
    settings.COVAGE_API_URL = live_server.url
    settings.COVAGE_TOKEN_URL = live_server.url + TOKEN_PATH
    settings.COVAGE_USERNAME = "demo"
    settings.COVAGE_PASSWORD = "demo"
    sandbox = dict(settings.COVAGE_SANDBOX)
    sandbox.update(ACCOUNTS="demo:demo,other:other", CONFIRM_DELAY=0.0, EXPORT_DELAY=0.0)
    settings.COVAGE_SANDBOX = sandbox
    return live_server.url


@pytest.fixture
def settled_sandbox_calls() -> Any:
    """The sandbox records a call when its answer is sent: a call whose answer was delayed
    past the client's timeout is recorded late. This waits for the count to reach `expected`
    (at most 10 s) and returns it, so the server thread is done before the test ends."""
    import time

    def wait(queryset: Any, expected: int) -> int:
        deadline = time.monotonic() + 10
        while queryset.count() < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return queryset.count()

    return wait


# --- Browser tests (pytest-playwright on Debian's Chromium) ----------------------------------


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Playwright cannot download a browser here; as root, Chromium needs --no-sandbox.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Chromium: skipped (and said so) on a machine without it, except in
    CI, which sets E2E_REQUIRED so that a missing browser fails instead of passing quietly."""
    if chromium_available() or os.environ.get("E2E_REQUIRED"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)
