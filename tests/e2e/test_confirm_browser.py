"""Confirming in a real browser: a second line made with Duplicate, the check, the confirmation,
progress that updates by itself, final states equal to the sandbox's, and the reasons of a
rejected line shown on its fields.

Celery runs inline in tests, so the part of the worker that polls Covage after the
confirmation is played here by calling the same task function; the page is never reloaded.
"""

from __future__ import annotations

import os
import re

import pytest
from browser_checks import assert_accessible
from django.db.models import F
from django.urls import reverse
from factories import PASSWORD, sales_user
from order_data import fill_line

from covage.sandbox.models import ProductOrder, ProductOrderItem
from orders import services, tasks
from orders.models import LineContact, OrderLine, OrderSession

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_confirm_watch_progress_and_read_rejections(page, sandbox_url, settings):
    user = sales_user(first_name="Zoé", last_name="Ménard")
    session = services.create_session(user=user, external_id="E2E-NOËL")
    first = fill_line(user, session)
    base = sandbox_url

    page.goto(base + reverse("orders:session", args=[session.pk]))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))

    # The second line: a copy of the first, then a different customer.
    page.get_by_role("button", name="Duplicate line 1").click()
    page.wait_for_selector("text=Line 1 duplicated as line 2.")
    second = OrderLine.objects.exclude(pk=first.pk).get()
    page.goto(base + reverse("orders:line_step", args=[session.pk, second.pk, "customer"]))
    page.get_by_label("End customer name").fill("Crêperie Noël")
    page.get_by_role("button", name="Save and return to the session").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    page.wait_for_selector("#session-lines >> text=Crêperie Noël")
    assert ProductOrderItem.objects.count() == 2

    # Covage's rules catch what ours could not see (changed behind the form's back) ...
    LineContact.objects.filter(line=second).update(postcode="")
    OrderLine.objects.filter(pk=second.pk).update(version=F("version") + 1)
    services.sync_session(session_id=session.pk)
    # ... and our check would stop it, so it is made to pass it for this test.
    LineContact.objects.filter(line=second).update(postcode="76130")
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "CONFIRM_DELAY": 3600.0}

    page.get_by_role("link", name="Check and confirm").click()
    page.get_by_role("button", name="Confirm session").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    progress = page.locator("#confirmation-progress")
    assert "0 of 2 lines decided" in progress.inner_text()
    assert page.get_by_role("progressbar").is_visible()

    # Covage decides; the worker's poll picks it up; the page follows without a reload.
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "CONFIRM_DELAY": 0.0}
    tasks.poll_session.run(session.pk)
    page.wait_for_selector("#confirmation-progress >> text=2 of 2 lines decided", timeout=15000)
    # The history follows too: what the worker did is listed without a reload.
    page.wait_for_selector("#session-history >> text=Session state", timeout=15000)

    session.refresh_from_db()
    remote = ProductOrder.objects.get(uid=session.covage_id)
    assert session.remote_state == remote.state == "partial"
    rows = page.locator("#session-lines tbody")
    for line in OrderLine.objects.filter(session=session):
        remote_line = ProductOrderItem.objects.get(uid=line.covage_id)
        assert line.remote_state == remote_line.state
        assert rows.locator(f"#line-{line.pk}").get_by_text(remote_line.state).is_visible()
    assert page.get_by_text(
        "Postcode is missing: Covage needs it to create the order."
    ).is_visible()

    assert_accessible(page, "the session page with a rejected line")

    page.get_by_role("link", name="See the field").click()
    page.wait_for_url(re.compile(r".*/lines/\d+/#id_postcode$"))
    field = page.locator("#id_postcode")
    assert "Rejected by Covage: Postcode is missing" in field.inner_text()
    assert_accessible(page, "the page of a rejected line")

    page.go_back()
    page.get_by_role("button", name="Copy rejected lines to a new session").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    copy = OrderSession.objects.exclude(pk=session.pk).get()
    assert page.url.endswith(reverse("orders:session", args=[copy.pk]))
    assert copy.lines.get().end_customer_name == "Crêperie Noël"
