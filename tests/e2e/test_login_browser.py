"""Golden path in a real browser: log in with the keyboard alone, land on the home dashboard,
log out."""

from __future__ import annotations

import os

import pytest
from factories import PASSWORD, sales_user

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that it is safe (it is: the loop is Playwright's).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_keyboard_login_and_logout(page, live_server):
    user = sales_user(first_name="Zoé", last_name="Ménard")
    page.goto(live_server.url + "/")
    assert "/login/" in page.url
    page.get_by_label("Username").focus()
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_text("Zoé Ménard").is_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
    assert page.get_by_role("button", name="Log in").is_visible()
