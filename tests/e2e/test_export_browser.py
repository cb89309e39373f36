"""Exports in a real browser: request one, watch it run, download the CSV, and be told when the
next request is allowed.

Celery runs inline in tests; the poll the worker would run a little later is held back and
run by the test, so the page can be seen waiting and then updating itself (htmx polling).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_checks import assert_accessible
from django.urls import reverse
from factories import PASSWORD, sales_user
from order_data import fill_line

from exports import tasks
from exports.models import ExportJob
from orders import services

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_request_watch_download_and_next_allowed(page, sandbox_url, monkeypatch, tmp_path):
    user = sales_user(first_name="Zoé", last_name="Ménard")
    session = services.create_session(user=user, external_id="EXPORT-ÉTÉ")
    fill_line(user, session, end_customer_name="Crêperie Noël")

    held: list[tuple] = []
    monkeypatch.setattr(
        tasks.poll_export,
        "apply_async",
        lambda args=(), kwargs=None, **options: held.append((args, kwargs or {})),
    )

    page.goto(sandbox_url + reverse("exports:list"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/exports/$"))
    assert page.get_by_text("No exports yet.").is_visible()

    page.get_by_role("button", name="Request export").click()
    page.wait_for_url(re.compile(r".*/exports/$"))
    job = ExportJob.objects.get()
    card = page.locator(f"#export-job-{job.pk}")
    assert "Covage is preparing the file" in card.inner_text()
    # Told when the next request is allowed, and the button waits for it.
    # The time in the language's format (a 24-hour clock in both, portal/formats/en).
    next_allowed = re.compile(r"Next export possible at \d\d:\d\d\.")
    assert page.get_by_text(next_allowed).is_visible()
    assert page.get_by_role("button", name="Request export").is_disabled()

    assert held, "the start task scheduled a status poll"
    args, kwargs = held[0]
    tasks.poll_export.run(*args, **kwargs)
    page.wait_for_selector(f"#export-job-{job.pk} >> text=Download CSV", timeout=10000)
    # Screen readers are told, by a live region that the polled card does not replace.
    status = page.locator(f"#export-job-{job.pk}-status")
    assert status.get_attribute("role") == "status"
    assert status.inner_text() == f"Export #{job.pk} is ready: its CSV file can be downloaded."

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").first.click()
    target = Path(tmp_path) / "export.csv"
    download_info.value.save_as(target)
    text = target.read_text(encoding="utf-8")
    assert "EXPORT-ÉTÉ" in text and "Crêperie Noël" in text
    assert text.count("\n") == 2  # a header and the one line

    # The page as it now stands (a ready card), then as it loads again (the history table).
    assert_accessible(page, "the exports page with a ready export")
    page.reload()
    assert page.locator(f"#export-row-{job.pk}").is_visible()
    assert_accessible(page, "the exports page with its history")
