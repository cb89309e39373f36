"""OAuth2 password grant, shared cache, refresh, renewal after a 401."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.core.cache import caches

from covage.client import CovageClient
from covage.errors import (
    CovageAuthenticationError,
    CovageError,
    CovageNotFound,
    CovageUnavailable,
)
from covage.tokens import TokenProvider

API = "https://api.covage.test"
TOKEN_URL = "https://auth.covage.test/auth/realms/covage/protocol/openid-connect/token"
PASSWORD = "s3cret-Pa55word"


@pytest.fixture(autouse=True)
def _locmem_cache(settings: Any) -> Iterator[None]:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "covage-tokens-tests",
        }
    }
    caches["default"].clear()
    yield
    caches["default"].clear()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def token_body(n: int, *, expires_in: int = 300, refresh_expires_in: int = 1800) -> dict[str, Any]:
    return {
        "access_token": f"access-{n}",
        "expires_in": expires_in,
        "refresh_token": f"refresh-{n}",
        "refresh_expires_in": refresh_expires_in,
        "token_type": "Bearer",
        "scope": "profile",
        "session_state": "abc",
    }


def provider(clock: Clock | None = None, *, username: str = "demo") -> TokenProvider:
    return TokenProvider(
        token_url=TOKEN_URL,
        client_id="api-client",
        username=username,
        password=PASSWORD,
        session=requests.Session(),
        connect_timeout=1.0,
        read_timeout=2.0,
        clock=clock or Clock(),
    )


def form(call: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


@responses.activate
def test_password_grant_form_and_token() -> None:
    responses.post(TOKEN_URL, json=token_body(1))
    assert provider().get_access_token() == "access-1"
    call = responses.calls[0]
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(call) == {
        "grant_type": "password",
        "client_id": "api-client",
        "username": "demo",
        "password": PASSWORD,
    }


@responses.activate
def test_token_is_shared_through_the_cache_by_a_second_instance() -> None:
    responses.post(TOKEN_URL, json=token_body(1))
    clock = Clock()
    assert provider(clock).get_access_token() == "access-1"
    assert provider(clock).get_access_token() == "access-1"
    assert len(responses.calls) == 1


@responses.activate
def test_cache_key_depends_on_user_and_url_but_never_holds_the_password() -> None:
    first, second = provider(username="demo"), provider(username="other")
    assert first.cache_key != second.cache_key
    assert PASSWORD not in first.cache_key and "demo" not in first.cache_key
    assert PASSWORD not in repr(first)


@responses.activate
def test_refresh_token_used_when_access_token_expired() -> None:
    responses.post(TOKEN_URL, json=token_body(1))
    responses.post(TOKEN_URL, json=token_body(2))
    clock = Clock()
    tokens = provider(clock)
    assert tokens.get_access_token() == "access-1"
    clock.now += 300 - 29  # inside the 30 s safety margin
    assert tokens.get_access_token() == "access-2"
    assert form(responses.calls[1]) == {
        "grant_type": "refresh_token",
        "client_id": "api-client",
        "refresh_token": "refresh-1",
    }


@responses.activate
def test_password_login_when_refresh_is_refused() -> None:
    responses.post(TOKEN_URL, json=token_body(1))
    responses.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    responses.post(TOKEN_URL, json=token_body(3))
    clock = Clock()
    tokens = provider(clock)
    tokens.get_access_token()
    clock.now += 1000
    assert tokens.get_access_token() == "access-3"
    assert [form(call)["grant_type"] for call in responses.calls] == [
        "password",
        "refresh_token",
        "password",
    ]


@responses.activate
def test_password_login_when_refresh_token_also_expired() -> None:
    responses.post(TOKEN_URL, json=token_body(1, refresh_expires_in=600))
    responses.post(TOKEN_URL, json=token_body(2))
    clock = Clock()
    tokens = provider(clock)
    tokens.get_access_token()
    clock.now += 600
    assert tokens.get_access_token() == "access-2"
    assert form(responses.calls[1])["grant_type"] == "password"


@responses.activate
def test_refused_credentials_give_a_clear_error_without_secrets() -> None:
    responses.post(TOKEN_URL, json={"error": "invalid_grant"}, status=401)
    with pytest.raises(CovageAuthenticationError) as caught:
        provider().get_access_token()
    message = str(caught.value)
    assert "Covage refused the credentials for user 'demo'" in message
    assert "invalid_grant" in message
    assert PASSWORD not in message
    assert caught.value.status == 401


@responses.activate
def test_400_from_token_endpoint_is_an_authentication_error() -> None:
    responses.post(TOKEN_URL, json={"error": "invalid_client"}, status=400)
    with pytest.raises(CovageAuthenticationError, match="user 'demo'"):
        provider().get_access_token()


@pytest.mark.parametrize(
    ("mock", "reason"),
    [
        ({"body": requests.ConnectTimeout("boom")}, "connect_timeout"),
        ({"body": requests.ReadTimeout("boom")}, "read_timeout"),
        ({"body": requests.ConnectionError("boom")}, "connect"),
        ({"status": 503}, "server_error"),
    ],
)
@responses.activate
def test_token_endpoint_down_is_unavailable(mock: dict[str, Any], reason: str) -> None:
    responses.post(TOKEN_URL, **mock)
    with pytest.raises(CovageUnavailable) as caught:
        provider().get_access_token()
    assert caught.value.reason == reason
    assert caught.value.ambiguous is False


@responses.activate
def test_token_endpoint_404_and_non_json() -> None:
    responses.post(TOKEN_URL, status=404)
    with pytest.raises(CovageNotFound, match="token endpoint was not found"):
        provider().get_access_token()
    responses.replace(responses.POST, TOKEN_URL, body="<html>login</html>", status=200)
    with pytest.raises(CovageError, match="did not answer JSON"):
        provider().get_access_token()


@responses.activate
def test_answer_without_access_token_is_an_error() -> None:
    responses.post(TOKEN_URL, json={"token_type": "Bearer"})
    with pytest.raises(CovageError, match="without an access token"):
        provider().get_access_token()


@responses.activate
def test_a_valid_token_is_reused_without_reading_the_shared_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    responses.post(TOKEN_URL, json=token_body(1))
    responses.post(TOKEN_URL, json=token_body(2))
    clock = Clock()
    mine = provider(clock)
    assert mine.get_access_token() == "access-1"
    reads: list[str] = []
    real_get = caches["default"].get
    monkeypatch.setattr(
        caches["default"], "get", lambda key, *a: reads.append(key) or real_get(key, *a)
    )
    assert [mine.get_access_token() for _ in range(3)] == ["access-1"] * 3
    assert reads == []
    # Near its expiry the shared cache is read again (and the token refreshed).
    clock.now += 300 - 29
    assert mine.get_access_token() == "access-2"
    assert reads and len(responses.calls) == 2


def renewed_by_another_process() -> TokenProvider:
    """This process's provider, after another process sharing its cache replaced access-1
    (refused by Covage) with access-2."""
    responses.post(TOKEN_URL, json=token_body(1))
    responses.post(TOKEN_URL, json=token_body(2))
    clock = Clock()
    mine, theirs = provider(clock), provider(clock)
    assert mine.get_access_token() == "access-1"
    assert theirs.renew_after_rejection("access-1") == "access-2"
    return mine


@responses.activate
def test_a_token_another_process_dropped_is_replaced_once_refused() -> None:
    mine = renewed_by_another_process()
    # This process still sends access-1 until Covage refuses it, then takes the new one.
    assert mine.get_access_token() == "access-1"
    assert mine.renew_after_rejection("access-1") == "access-2"
    assert mine.get_access_token() == "access-2"
    assert len(responses.calls) == 2


@responses.activate
def test_renew_after_rejection_keeps_a_token_another_process_already_renewed() -> None:
    mine = renewed_by_another_process()
    # The other process already replaced access-1: no second login.
    assert mine.renew_after_rejection("access-1") == "access-2"
    assert len(responses.calls) == 2


@responses.activate
def test_logs_hold_no_password_or_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    responses.post(TOKEN_URL, json=token_body(1))
    responses.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    responses.post(TOKEN_URL, json=token_body(2))
    clock = Clock()
    tokens = provider(clock)
    tokens.get_access_token()
    clock.now += 1000
    tokens.get_access_token()
    assert "token" in caplog.text  # it did log the calls
    for secret in (PASSWORD, "access-1", "access-2", "refresh-1", "refresh-2"):
        assert secret not in caplog.text


@responses.activate
def test_client_instances_share_the_token() -> None:
    responses.post(TOKEN_URL, json=token_body(1))
    responses.get(f"{API}/api/v1/referential/project", json=[])
    for _ in range(2):
        client = CovageClient(
            base_url=API,
            token_url=TOKEN_URL,
            client_id="api-client",
            username="demo",
            password=PASSWORD,
            sleep=lambda _s: None,
        )
        assert client.list_projects() == []
    token_calls = [call for call in responses.calls if call.request.url == TOKEN_URL]
    assert len(token_calls) == 1
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer access-1"
