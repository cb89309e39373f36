"""Fixtures of the export tests: a private media folder, a fresh Covage client, and the
Celery messages the services send (captured, not delivered: tests run the tasks themselves)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from covage.client import reset_client
from exports import tasks


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _fresh_client() -> Iterator[None]:
    # The client is built from settings once per thread; sandbox_url changes those settings.
    reset_client()
    yield
    reset_client()


@dataclass
class SentTask:
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    countdown: float | None


@dataclass
class SentTasks:
    calls: list[SentTask] = field(default_factory=list)

    def named(self, name: str) -> list[SentTask]:
        return [call for call in self.calls if call.name == name]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture(autouse=True)
def sent_tasks(monkeypatch: pytest.MonkeyPatch) -> SentTasks:
    """Every start/poll message the code under test sends, with its countdown."""
    sent = SentTasks()

    def capture(name: str) -> Any:
        def apply_async(
            args: tuple[Any, ...] | None = None,
            kwargs: dict[str, Any] | None = None,
            countdown: float | None = None,
            **options: Any,
        ) -> None:
            sent.calls.append(SentTask(name, tuple(args or ()), dict(kwargs or {}), countdown))

        return apply_async

    monkeypatch.setattr(tasks.start_export, "apply_async", capture("start"))
    monkeypatch.setattr(tasks.poll_export, "apply_async", capture("poll"))
    return sent


@pytest.fixture
def sandbox(sandbox_url: str, settings: Any) -> Any:
    """The sandbox with its export knobs at hand: ``sandbox(EXPORT_DELAY=60)``."""

    def configure(**knobs: Any) -> None:
        settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, **knobs}

    configure.url = sandbox_url  # type: ignore[attr-defined]
    return configure
