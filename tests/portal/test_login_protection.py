"""Failed logins are locked out per user name and per client address (django-axes), on the
portal's login page and on the admin's; the lockout page says the same for every user name."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from factories import PASSWORD, UserFactory, back_office_user, sales_user

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def login(client, path, username, password, ip="10.0.0.1"):
    data = {"username": username, "password": password}
    if path == reverse("admin:login"):
        data["next"] = reverse("admin:index")
    return client.post(path, data, REMOTE_ADDR=ip)


def fail_until_locked(client, path, username, ip="10.0.0.1"):
    responses = [login(client, path, username, "wrong password", ip) for _ in range(LIMIT)]
    assert [r.status_code for r in responses[:-1]] == [200] * (LIMIT - 1)
    return responses[-1]


def main_text(response) -> str:
    """The page's <main>, without the per-request CSRF token of the layout."""
    body = response.content.decode()
    return re.search(r"<main.*</main>", body, re.S).group(0)


@pytest.mark.parametrize("path_name", ["login", "admin:login"])
def test_locked_after_the_configured_failures_even_with_the_right_password(client, path_name):
    path = reverse(path_name)
    user = back_office_user(username="alice")
    locked = fail_until_locked(client, path, user.username)
    assert locked.status_code == 429
    assert "Logging in is paused" in locked.content.decode()
    assert "Try again in 15 minutes." in locked.content.decode()

    right = login(client, path, user.username, PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("orders:list")).status_code == 302


def test_the_failure_limit_and_cool_off_come_from_settings(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    user = sales_user()
    login(client, reverse("login"), user.username, "nope")
    locked = login(client, reverse("login"), user.username, "nope")
    assert locked.status_code == 429
    assert "Try again in 1 minute." in locked.content.decode()


def test_the_lock_ends_after_the_cool_off(client):
    user = sales_user()
    fail_until_locked(client, reverse("login"), user.username)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    response = login(client, reverse("login"), user.username, PASSWORD)
    assert response.status_code == 302


def test_lockout_page_is_the_same_for_an_unknown_user(client):
    sales_user(username="known")
    known = fail_until_locked(client, reverse("login"), "known", ip="10.0.0.1")
    unknown = fail_until_locked(client, reverse("login"), "nobody-here", ip="10.0.0.2")
    assert known.status_code == unknown.status_code == 429
    assert main_text(known) == main_text(unknown)
    assert "known" not in main_text(known)
    assert "nobody-here" not in main_text(unknown)


def test_locked_per_user_from_any_address_and_per_address_for_any_user(client):
    alice = sales_user(username="alice")
    bob = sales_user(username="bob")
    fail_until_locked(client, reverse("login"), "alice", ip="10.0.0.1")
    # The user name is locked wherever the attempt comes from ...
    assert login(client, reverse("login"), "alice", PASSWORD, ip="10.9.9.9").status_code == 429
    # ... and so is the address, whoever logs in from it.
    assert login(client, reverse("login"), "bob", PASSWORD, ip="10.0.0.1").status_code == 429
    # Another user from another address is not affected.
    assert login(client, reverse("login"), "bob", PASSWORD, ip="10.0.0.3").status_code == 302
    assert alice.pk != bob.pk


def test_logging_in_to_ones_own_account_does_not_reset_the_count_on_another(client):
    """Otherwise anyone with an account could guess another's password without end."""
    sales_user(username="mallory")
    sales_user(username="victim")
    for _ in range(LIMIT - 1):
        login(client, reverse("login"), "victim", "guess", ip="10.0.0.9")
    assert login(client, reverse("login"), "mallory", PASSWORD, ip="10.0.0.9").status_code == 302
    client.post(reverse("logout"))
    # The count on the victim's name goes on, from any address.
    assert login(client, reverse("login"), "victim", "guess", ip="10.0.0.8").status_code == 429


def test_behind_a_proxy_the_configured_header_is_the_address(client, settings):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.AXES_IPWARE_PROXY_COUNT = 1
    sales_user(username="carol")
    for _ in range(LIMIT):
        client.post(
            reverse("login"),
            {"username": "carol", "password": "nope"},
            REMOTE_ADDR="10.0.0.254",
            HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.254",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_lockouts_are_listed_in_the_admin_and_lifted_there(client):
    user = sales_user(username="dave")
    fail_until_locked(client, reverse("login"), user.username)
    attempt = AccessAttempt.objects.get(username="dave")

    admin = back_office_user()
    client.force_login(admin)
    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "dave" in listing.content.decode()
    assert "Locked Out" in listing.content.decode()
    lifted = client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert lifted.status_code == 302
    client.post(reverse("logout"))

    assert login(client, reverse("login"), "dave", PASSWORD).status_code == 302


def test_passwords_need_twelve_characters():
    user = UserFactory.build(username="erin")
    with pytest.raises(ValidationError) as error:
        validate_password("Short-pw-11", user)
    assert any("at least 12 characters" in message for message in error.value.messages)
    validate_password("Twelve-chars", user)


def test_demo_users_get_valid_passwords(capsys, settings):
    settings.DEMO_PASSWORD = ""
    call_command("seed_demo")
    out = capsys.readouterr().out
    passwords = re.findall(r"password '([^']+)'", out)
    assert len(passwords) == 2
    for password in passwords:
        assert len(password) >= 12
        validate_password(password)


def test_a_too_short_demo_password_is_refused(settings):
    settings.DEMO_PASSWORD = "demo"
    with pytest.raises(CommandError, match="at least 12 characters"):
        call_command("seed_demo")
