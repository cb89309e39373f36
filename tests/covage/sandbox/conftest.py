"""Fixtures of the sandbox tests: deterministic knobs and an authenticated JSON client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from covage.sandbox import faults

TOKEN_URL = "/auth/realms/covage/protocol/openid-connect/token"

BASE_KNOBS: dict[str, Any] = {
    "ACCOUNTS": "demo:demo,other:other-pw",
    "TOKEN_TTL": 300,
    "REFRESH_TTL": 1800,
    "LATENCY_MS": 0,
    "ERROR_RATE": 0.0,
    "TIMEOUT_RATE": 0.0,
    "TIMEOUT_SECONDS": 0.0,
    "RATE_LIMIT_RATE": 0.0,
    "RATE_LIMIT_RETRY_AFTER": 1,
    "CONFIRM_DELAY": 0.0,
    "EXPORT_DELAY": 0.0,
    "EXPORT_WINDOW": 300,
    "EXPORT_FAILURE_RATE": 0.0,
    "TRACKING_STEP_SECONDS": 30.0,
    "SEED": "",
    "SPELLING": "examples",
    "EXPORT_MIN_BYTES": 0,
}


@pytest.fixture(autouse=True)
def _sandbox_knobs(settings: Any) -> None:
    settings.COVAGE_SANDBOX = dict(BASE_KNOBS)
    faults.reset_rng()


@pytest.fixture
def knobs(settings: Any) -> Callable[..., None]:
    def set_knobs(**values: Any) -> None:
        settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, **values}

    return set_knobs


def get_token(client: Client, username: str = "demo", password: str = "demo") -> dict[str, Any]:
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "password",
            "client_id": "api-client",
            "username": username,
            "password": password,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


class Api:
    """The Django test client with a bearer token and JSON bodies."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, query, **self._headers())

    def post(self, path: str, body: Any = None, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(path, data, content_type="application/json", **self._headers())

    def patch(self, path: str, body: Any = None) -> Any:
        data = json.dumps(body if body is not None else {})
        return self.client.patch(path, data, content_type="application/json", **self._headers())

    def delete(self, path: str) -> Any:
        return self.client.delete(path, **self._headers())

    # Shortcuts for the order-taking flow.
    def new_session(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/api/v1/product_order", fields)
        assert response.status_code == 201, response.content
        return response.json()

    def new_line(self, session_id: str, **fields: Any) -> dict[str, Any]:
        response = self.post(f"/api/v1/product_order/{session_id}/product_order_item", fields)
        assert response.status_code == 201, response.content
        return response.json()

    def confirm(self, session_id: str) -> Any:
        return self.patch(f"/api/v1/product_order/{session_id}/confirm/")

    def session(self, session_id: str) -> dict[str, Any]:
        response = self.get(f"/api/v1/product_order/{session_id}/")
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture
def api(db: Any) -> Api:
    client = Client()
    return Api(client, get_token(client)["access_token"])


@pytest.fixture
def other_api(db: Any) -> Api:
    client = Client()
    return Api(client, get_token(client, "other", "other-pw")["access_token"])


def contact(**overrides: Any) -> dict[str, Any]:
    """The documentation's example contact, complete for confirmation."""
    return {
        "end_customer_name": "Covage corp",
        "siret": "00000000000000",
        "contact1_email_address": "John.Doe@unknown.com",
        "contact1_firstname": "John",
        "contact1_lastname": "Doe",
        "contact1_phone_number": "0123456789",
        "contact2_email_address": "Jane.Doe@unknown.com",
        "contact2_firstname": "Jane",
        "contact2_lastname": "Doe",
        "contact2_phone_number": "0987654321",
        "city": "Mont-Saint-Aignan",
        "postcode": "76130",
        "street_name": "Rue Andrei Sakharov",
        "street_number": "4",
        "street_number_extension": "B",
        "insee_code": "76451",
        "building_name": "",
        "level_number": "0",
        "latitude": 49.4744077,
        "longitude": 1.091455,
        **overrides,
    }


def clean_line(**overrides: Any) -> dict[str, Any]:
    """A line that passes every confirmation rule (no option 7021, no CPE)."""
    return {
        "end_customer_name": "Covage",
        "external_id": "6789",
        "option_ids": ["2210"],
        "product_offering_id": "2173",
        "product_offering_qualification_item_id": "d5a4a9aa-ba2c-4f53-95c7-0c1ce6f6e7fa",
        "project_id": "PRJ-2024-001",
        "enni": "CN012345",
        "vlan_reference": "1257",
        "customer_order_name": "john Doe",
        "related_contact_information": [contact()],
        "siret_known": True,
        "offer_family": "BPE",
        "offer_technology": "FIBDE",
        "scheduled_delivery_date": "2025-09-21",
        **overrides,
    }


@pytest.fixture
def line() -> Callable[..., dict[str, Any]]:
    return clean_line


@pytest.fixture
def contact_info() -> Callable[..., dict[str, Any]]:
    return contact
