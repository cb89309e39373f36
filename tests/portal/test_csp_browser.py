"""In a real browser, under the real Content-Security-Policy: the pages a user walks through
raise no violation, the confirmation progress bar keeps its width without a style attribute,
the TOTP enrolment shows its QR code, and a lockout shows its page."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import PASSWORD, back_office_user
from order_data import fill_line

from orders import services
from orders.models import OrderLine, OrderSession

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def violations(page):
    """Every CSP violation the browser reports (console) while the test runs."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def log_in(page, base, user):
    page.goto(base + reverse("login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_pages_work_under_the_policy(page, sandbox_url, violations):
    user = back_office_user(first_name="Zoé", last_name="Ménard")
    session = services.create_session(user=user, external_id="CSP-1")
    first = fill_line(user, session)
    fill_line(user, session)
    # Sent for confirmation, Covage has decided one line of two.
    now = timezone.now()
    OrderSession.objects.filter(pk=session.pk).update(
        confirm_requested_at=now, confirmed_at=now, remote_state="in_progress"
    )
    OrderLine.objects.filter(pk=first.pk).update(remote_state="acknowledged")

    log_in(page, sandbox_url, user)
    # The home dashboard (inline SVG charts, the htmx bell) under the policy too.
    page.wait_for_url(sandbox_url + reverse("home"))
    page.goto(sandbox_url + reverse("orders:session", args=[session.pk]))
    bar = page.locator("#confirmation-progress .progress-bar")
    assert "1 of 2 lines decided" in page.locator("#confirmation-progress").inner_text()
    outer = page.locator("#confirmation-progress .progress").bounding_box()
    inner = bar.bounding_box()
    assert inner["width"] == pytest.approx(outer["width"] / 2, rel=0.05)

    # htmx took its configuration from the page: no inline style injected, no eval.
    assert page.locator("head style").count() == 0

    page.goto(sandbox_url + reverse("two_factor_enrol"))
    qr = page.get_by_role("img", name=re.compile("QR code"))
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert qr.bounding_box()["width"] > 100  # sized by static/css, not by an attribute

    page.goto(sandbox_url + reverse("admin:index"))
    assert page.get_by_role("link", name=re.compile("Access attempts")).is_visible()
    assert violations == []


def test_lockout_page_in_the_browser(page, live_server, settings, violations):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    for _ in range(2):
        page.goto(live_server.url + reverse("login"))
        page.get_by_label("Username").fill("someone")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("heading", name="Logging in is paused").is_visible()
    assert page.get_by_text("Try again in 15 minutes.").is_visible()
    assert violations == []
