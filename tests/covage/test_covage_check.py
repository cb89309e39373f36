"""``manage.py covage_check``: output and exit status for success and each kind of failure."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
import requests
import responses
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import CommandError
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from covage.management.commands.covage_check import Command

API = "https://api.covage.test"
TOKEN_URL = "https://auth.covage.test/auth/realms/covage/protocol/openid-connect/token"
PROJECTS_URL = f"{API}/api/v1/referential/project"
PASSWORD = "check-Pa55word"
TOKEN = "secret-access-token"


@pytest.fixture(autouse=True)
def _covage_settings(settings: Any) -> Iterator[None]:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "covage-check-tests",
        }
    }
    settings.COVAGE_API_URL = API
    settings.COVAGE_TOKEN_URL = TOKEN_URL
    settings.COVAGE_USERNAME = "demo"
    settings.COVAGE_PASSWORD = PASSWORD
    caches["default"].clear()
    yield
    caches["default"].clear()


def run() -> tuple[str, str, bool]:
    """stdout, stderr and whether the command failed."""
    out, err = StringIO(), StringIO()
    try:
        call_command("covage_check", stdout=out, stderr=err)
    except CommandError:
        return out.getvalue(), err.getvalue(), True
    return out.getvalue(), err.getvalue(), False


def token_ok() -> None:
    responses.post(
        TOKEN_URL, json={"access_token": TOKEN, "expires_in": 300, "refresh_token": "r-secret"}
    )


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (PASSWORD, TOKEN, "r-secret"):
            assert secret not in text


def connection_error(reason: Exception) -> requests.ConnectionError:
    return requests.ConnectionError(MaxRetryError(None, TOKEN_URL, reason))  # type: ignore[arg-type]


@responses.activate
def test_success() -> None:
    token_ok()
    responses.get(PROJECTS_URL, json=[{"code": "A"}, {"code": "B"}])
    out, err, failed = run()
    assert not failed
    assert f"OK token: obtained for user 'demo' at {TOKEN_URL}" in out
    assert f"OK API: 2 projects at {API}" in out
    assert err == ""
    assert_no_secret(out, err)
    # Read-only: a token and one GET.
    assert [call.request.method for call in responses.calls] == ["POST", "GET"]


@responses.activate
def test_success_ignores_a_cached_token_and_checks_the_credentials() -> None:
    token_ok()
    responses.get(PROJECTS_URL, json=[])
    run()
    run()
    assert [call.request.url for call in responses.calls].count(TOKEN_URL) == 2


@pytest.mark.parametrize(
    ("token_mock", "expected_error", "expected_hint"),
    [
        (
            {"body": connection_error(NewConnectionError(None, "refused"))},  # type: ignore[arg-type]
            "could not connect",
            "Check COVAGE_TOKEN_URL and that the server runs",
        ),
        (
            {
                "body": connection_error(
                    NameResolutionError("auth.covage.test", None, "unknown host")  # type: ignore[arg-type]
                )
            },
            "could not resolve the host name",
            "does not resolve",
        ),
        ({"body": requests.ConnectTimeout("slow")}, "timed out", "COVAGE_CONNECT_TIMEOUT"),
        (
            {"status": 401, "json": {"error": "invalid_grant"}},
            "Covage refused the credentials for user 'demo'",
            "Check COVAGE_USERNAME and COVAGE_PASSWORD",
        ),
        (
            {"status": 400, "json": {"error": "invalid_grant"}},
            "refused the credentials",
            "COVAGE_PASSWORD",
        ),
        ({"status": 404}, "token endpoint was not found", "Wrong base URL: check COVAGE_TOKEN_URL"),
        ({"status": 503}, "unavailable", "try again later"),
        ({"body": "<html>hello</html>", "status": 200}, "did not answer JSON", "COVAGE_TOKEN_URL"),
    ],
)
@responses.activate
def test_token_failures(
    token_mock: dict[str, Any], expected_error: str, expected_hint: str
) -> None:
    responses.post(TOKEN_URL, **token_mock)
    out, err, failed = run()
    assert failed
    assert "OK token" not in out
    assert "FAIL token:" in err
    assert expected_error in err
    assert f"hint: {expected_hint}" in err or expected_hint in err
    assert_no_secret(out, err)
    # It stopped at the token: the API was never called.
    assert all(call.request.url == TOKEN_URL for call in responses.calls)


@pytest.mark.parametrize(
    ("api_mock", "expected_error", "expected_hint"),
    [
        ({"status": 403, "json": {"detail": "Forbidden"}}, "not allowed", "lacks rights"),
        ({"status": 404}, "does not know", "Wrong base URL: check COVAGE_API_URL"),
        ({"status": 500}, "unavailable", "try again later"),
        ({"status": 401}, "did not accept our credentials", "different Covage environments"),
        ({"body": "<html></html>", "status": 200}, "not JSON", "COVAGE_API_URL"),
        ({"body": requests.ReadTimeout("slow")}, "timed out", "COVAGE_READ_TIMEOUT"),
        (
            {"body": connection_error(NewConnectionError(None, "refused"))},  # type: ignore[arg-type]
            "could not connect",
            "Check COVAGE_API_URL",
        ),
    ],
)
@responses.activate
def test_api_failures(api_mock: dict[str, Any], expected_error: str, expected_hint: str) -> None:
    token_ok()
    token_ok()  # the 401 case logs in again once
    responses.get(PROJECTS_URL, **api_mock)
    out, err, failed = run()
    assert failed
    assert "OK token: obtained for user 'demo'" in out
    assert "OK API" not in out
    assert "FAIL API:" in err
    assert expected_error in err
    assert expected_hint in err
    assert_no_secret(out, err)
    # No retries in a check: one answer is what the operator needs to see.
    assert len([call for call in responses.calls if call.request.url.startswith(API)]) <= 2


@responses.activate
def test_exit_status_from_the_command_line() -> None:
    responses.post(TOKEN_URL, status=401)
    command = Command(stdout=StringIO(), stderr=StringIO())
    with pytest.raises(SystemExit) as caught:
        command.run_from_argv(["manage.py", "covage_check"])
    assert caught.value.code == 1


@responses.activate
def test_exit_status_zero_on_success() -> None:
    token_ok()
    responses.get(PROJECTS_URL, json=[])
    command = Command(stdout=StringIO(), stderr=StringIO())
    # run_from_argv only calls sys.exit on failure.
    command.run_from_argv(["manage.py", "covage_check"])
