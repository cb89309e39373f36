"""Fixtures of the reconciliation tests: the sandbox as Covage (real HTTP), exports that may
follow one another at once, a private media folder, and a way to run an export to its end
(Celery runs inline: the export is stored, then settled from and compared)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from factories import back_office_user, sales_user

from covage.client import reset_client
from exports import services as export_services
from exports.models import ExportJob


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _fresh_client() -> Iterator[None]:
    reset_client()
    yield
    reset_client()


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def covage(sandbox_url: str, settings: Any) -> Callable[..., None]:
    """The sandbox, with exports allowed back to back; ``covage(KNOB=value)`` sets its knobs."""
    settings.EXPORT_WINDOW_SECONDS = 0

    def configure(**knobs: Any) -> None:
        settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, **knobs}

    configure(EXPORT_WINDOW=0)
    return configure


@pytest.fixture
def sales() -> Any:
    return sales_user(username="sophie")


@pytest.fixture
def back_office() -> Any:
    return back_office_user(username="bruno")


@pytest.fixture
def run_export(covage: Any) -> Callable[..., ExportJob]:
    """Request an export as a user would (or as the schedule does) and return the job once
    it is stored: tasks run inline, so it has been settled from and compared as well."""

    def run(*, user: Any = None, trigger: str = ExportJob.Trigger.MANUAL) -> ExportJob:
        job = export_services.request_export(user=user, trigger=trigger)
        job.refresh_from_db()
        assert job.status == ExportJob.Status.SUCCEEDED, (job.status, job.error)
        return job

    return run


@pytest.fixture
def french(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """French texts for the msgids a test puts in the returned dict, whatever the committed
    catalogue holds yet; every other msgid reads as the catalogue says. Proves that a text is
    translated when it is shown, in the reader's language."""
    from django.utils.translation import trans_real

    catalogue = trans_real.translation("fr")
    original = catalogue.gettext
    entries: dict[str, str] = {}
    monkeypatch.setattr(
        catalogue, "gettext", lambda message: entries.get(message) or original(message)
    )
    return entries
