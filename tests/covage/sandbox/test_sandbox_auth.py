"""Token endpoint (password and refresh grants, every error) and the bearer check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from covage.sandbox.models import SandboxToken

pytestmark = [pytest.mark.urls("covage.sandbox.urls"), pytest.mark.django_db]

TOKEN_URL = "/auth/realms/covage/protocol/openid-connect/token"


def password_grant(client: Client, **overrides: str):
    form = {
        "grant_type": "password",
        "client_id": "api-client",
        "username": "demo",
        "password": "demo",
        **overrides,
    }
    return client.post(TOKEN_URL, form)


def test_password_grant_returns_keycloak_fields(client: Client) -> None:
    response = password_grant(client)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["refresh_expires_in"] == 1800
    assert body["access_token"] and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]
    assert isinstance(body["scope"], str) and body["session_state"]
    assert response["Cache-Control"] == "no-store"


def test_token_endpoint_answers_with_trailing_slash(client: Client) -> None:
    response = client.post(
        TOKEN_URL + "/",
        {
            "grant_type": "password",
            "client_id": "api-client",
            "username": "demo",
            "password": "demo",
        },
    )
    assert response.status_code == 200


def test_ttls_come_from_knobs(client: Client, knobs) -> None:
    knobs(TOKEN_TTL=42, REFRESH_TTL=99)
    body = password_grant(client).json()
    assert (body["expires_in"], body["refresh_expires_in"]) == (42, 99)


def test_tokens_are_stored_hashed(client: Client) -> None:
    body = password_grant(client).json()
    hashes = set(SandboxToken.objects.values_list("token_hash", flat=True))
    assert len(hashes) == 2
    assert body["access_token"] not in hashes


@pytest.mark.parametrize(
    "overrides",
    [{"password": "wrong"}, {"username": "nobody"}, {"username": ""}, {"password": ""}],
)
def test_bad_credentials_are_invalid_grant_401(client: Client, overrides) -> None:
    response = password_grant(client, **overrides)
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid user credentials",
    }


def test_wrong_client_id_is_invalid_client_401(client: Client) -> None:
    response = password_grant(client, client_id="someone-else")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_other_grant_is_unsupported(client: Client) -> None:
    response = password_grant(client, grant_type="client_credentials")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_missing_grant_type_is_invalid_request(client: Client) -> None:
    response = client.post(TOKEN_URL, {"client_id": "api-client"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_token_endpoint_refuses_get(client: Client) -> None:
    assert client.get(TOKEN_URL).status_code == 405


def test_several_accounts_from_knob(client: Client, knobs) -> None:
    knobs(ACCOUNTS="alice:a:b,bob:pw")
    assert password_grant(client, username="alice", password="a:b").status_code == 200
    assert password_grant(client, username="bob", password="pw").status_code == 200
    assert password_grant(client, username="demo", password="demo").status_code == 401


def test_refresh_grant_gives_a_new_working_pair(client: Client) -> None:
    first = password_grant(client).json()
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "refresh_token",
            "client_id": "api-client",
            "refresh_token": first["refresh_token"],
        },
    )
    assert response.status_code == 200
    second = response.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_state"] == first["session_state"]
    api_response = client.get(
        "/api/v1/referential/project", HTTP_AUTHORIZATION=f"Bearer {second['access_token']}"
    )
    assert api_response.status_code == 200


def refresh(client: Client, token: str, client_id: str = "api-client"):
    return client.post(
        TOKEN_URL,
        {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token},
    )


def test_refresh_with_unknown_token_is_invalid_grant_400(client: Client) -> None:
    response = refresh(client, "not-a-token")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_with_an_access_token_is_refused(client: Client) -> None:
    access = password_grant(client).json()["access_token"]
    response = refresh(client, access)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_with_expired_token_is_invalid_grant_400(client: Client) -> None:
    body = password_grant(client).json()
    SandboxToken.objects.filter(kind="refresh").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = refresh(client, body["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_with_wrong_client_is_invalid_client(client: Client) -> None:
    body = password_grant(client).json()
    response = refresh(client, body["refresh_token"], client_id="intruder")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_refresh_of_a_removed_account_is_refused(client: Client, knobs) -> None:
    body = password_grant(client).json()
    knobs(ACCOUNTS="other:other-pw")
    response = refresh(client, body["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


# --- Bearer check --------------------------------------------------------------------------------


def test_api_without_token_is_401(client: Client) -> None:
    response = client.get("/api/v1/product_order")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer nonsense", "Basic ZGVtbzpkZW1v", "Bearer "])
def test_api_with_bad_token_is_401(client: Client, header: str) -> None:
    response = client.get("/api/v1/product_order", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_api_with_expired_token_is_401(client: Client) -> None:
    access = password_grant(client).json()["access_token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    assert client.get("/api/v1/product_order", **auth).status_code == 200
    SandboxToken.objects.filter(kind="access").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/api/v1/product_order", **auth)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"].lower()


def test_refresh_token_is_not_an_access_token(client: Client) -> None:
    refresh_token = password_grant(client).json()["refresh_token"]
    response = client.get("/api/v1/product_order", HTTP_AUTHORIZATION=f"Bearer {refresh_token}")
    assert response.status_code == 401


def test_auth_is_checked_on_every_api_route(client: Client) -> None:
    paths = [
        ("post", "/api/v1/product_order"),
        ("get", "/api/v1/product_order/0b10ba8a-3c31-44ba-a758-d178ec0bb166/"),
        ("patch", "/api/v1/product_order/0b10ba8a-3c31-44ba-a758-d178ec0bb166/confirm/"),
        ("delete", "/api/product_order/0b10ba8a-3c31-44ba-a758-d178ec0bb166/product_order_item/x/"),
        ("post", "/api/v1/product_order/export/csv/"),
        ("get", "/api/v1/order/"),
        ("get", "/api/v1/referential/enni/"),
    ]
    for method, path in paths:
        assert getattr(client, method)(path).status_code == 401, path


# --- Isolation between accounts ------------------------------------------------------------------


def test_accounts_do_not_see_each_other(api, other_api, line) -> None:
    session = api.new_session(external_id="mine")
    item = api.new_line(session["id"], **line())
    sid, iid = session["id"], item["id"]
    assert other_api.get(f"/api/v1/product_order/{sid}/").status_code == 404
    assert other_api.get("/api/v1/product_order", external_id="mine").json() == []
    assert other_api.get("/api/v1/product_order").json() == []
    assert (
        other_api.post(f"/api/v1/product_order/{sid}/product_order_item", line()).status_code == 404
    )
    assert (
        other_api.patch(
            f"/api/v1/product_order/{sid}/product_order_item/{iid}", {"note": "x"}
        ).status_code
        == 404
    )
    assert (
        other_api.delete(f"/api/product_order/{sid}/product_order_item/{iid}/").status_code == 404
    )
    assert other_api.confirm(sid).status_code == 404
    # Untouched for its owner.
    assert api.session(sid)["product_order_item"][0]["note"] == ""
    assert api.confirm(sid).status_code == 200
    reference = api.session(sid)["product_order_item"][0]["order_reference"]
    assert reference
    assert other_api.get("/api/v1/order/").json() == []
    assert other_api.get(f"/api/v1/order/{reference}/").status_code == 404
    assert other_api.get(f"/api/v1/order/{reference}/historic/").status_code == 404
    assert api.get(f"/api/v1/order/{reference}/").status_code == 200
