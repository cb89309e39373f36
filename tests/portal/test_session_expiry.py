"""Sessions end after an idle hour and, in any case, 8 hours after the login (both settings)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from factories import PASSWORD, sales_user

from portal.security import LOGIN_AT_KEY, SEEN_AT_KEY

pytestmark = pytest.mark.django_db


def age_session(client, *, login_ago: float, seen_ago: float) -> None:
    session = client.session
    now = time.time()
    session[LOGIN_AT_KEY] = int(now - login_ago)
    session[SEEN_AT_KEY] = int(now - seen_ago)
    session.save()


def test_defaults_are_one_idle_hour_and_eight_hours_in_all(settings):
    assert settings.SESSION_IDLE_TIMEOUT == 3600
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 8 * 3600
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


def test_login_stamps_the_session(client):
    user = sales_user()
    before = int(time.time())
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert client.session[LOGIN_AT_KEY] >= before
    assert client.session[SEEN_AT_KEY] >= before


def test_an_active_session_goes_on(client):
    client.force_login(sales_user())
    age_session(client, login_ago=7 * 3600, seen_ago=50 * 60)
    assert client.get(reverse("orders:list")).status_code == 200
    # The request counted as activity.
    assert time.time() - client.session[SEEN_AT_KEY] < 5


def test_idle_session_ends(client):
    client.force_login(sales_user())
    age_session(client, login_ago=2 * 3600, seen_ago=3601)
    response = client.get(reverse("orders:list"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "after 60 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("orders:list")).status_code == 302


def test_session_ends_eight_hours_after_login_however_active(client):
    client.force_login(sales_user())
    age_session(client, login_ago=8 * 3600 + 1, seen_ago=10)
    response = client.get(reverse("orders:list"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "it lasts at most 8 hours" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_limits_come_from_settings(client, settings):
    settings.SESSION_IDLE_TIMEOUT = 120
    settings.SESSION_ABSOLUTE_TIMEOUT = 600
    client.force_login(sales_user())
    age_session(client, login_ago=300, seen_ago=100)
    assert client.get(reverse("orders:list")).status_code == 200
    age_session(client, login_ago=300, seen_ago=121)
    assert client.get(reverse("orders:list")).status_code == 302

    client.force_login(sales_user())
    age_session(client, login_ago=601, seen_ago=1)
    assert client.get(reverse("orders:list")).status_code == 302


def test_an_expired_htmx_poll_sends_the_whole_page_to_login(client):
    client.force_login(sales_user())
    age_session(client, login_ago=60, seen_ago=3601)
    response = client.get(
        reverse("orders:list"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/orders/",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login") + "?next=%2Forders%2F"
    assert "_auth_user_id" not in client.session
