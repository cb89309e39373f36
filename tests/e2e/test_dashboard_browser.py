"""In a real browser: a salesperson logs in, sees a rejected line on the dashboard, follows
the count to the line, and finds the notification behind the bell."""

from __future__ import annotations

import os
import re

import pytest
from browser_checks import assert_accessible
from factories import PASSWORD, sales_user
from tracking_data import confirmed_session, record_rejection, rejected_line

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_rejected_line_on_the_dashboard_and_its_notification(page, live_server):
    user = sales_user(first_name="Zoé", last_name="Ménard")
    session = confirmed_session(user, remote_state="rejected")
    line = rejected_line(session)
    record_rejection(line)

    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")

    rejected = page.locator('[data-count="rejected"]')
    assert rejected.inner_text().split()[0] == "1"
    assert page.get_by_text("ENNI (collection port) is missing").is_visible()
    # The bell loads its count (htmx).
    page.locator("#notification-bell [data-unread='1']").wait_for()
    assert_accessible(page, "the dashboard")

    rejected.click()
    page.wait_for_url(re.compile(r".*/dashboard/lines/\?queue=rejected$"))
    assert_accessible(page, "the rejected lines")
    page.get_by_role(
        "link", name=re.compile(rf"{session.external_id} · line {line.position}")
    ).click()
    page.wait_for_url(re.compile(rf".*/orders/{session.pk}/lines/{line.pk}/$"))

    page.locator("#notification-bell").click()
    page.wait_for_url(re.compile(r".*/notifications/$"))
    note = page.get_by_role("link", name=re.compile("Covage rejected line"))
    assert note.is_visible()
    assert_accessible(page, "the notifications")
    # Opened: read, the bell shows no count any more.
    page.goto(live_server.url + "/")
    page.locator("#notification-bell").wait_for()
    page.wait_for_timeout(300)
    assert page.locator("#notification-bell [data-unread]").count() == 0
