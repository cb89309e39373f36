"""The Covage client against HTTP mocked with ``responses``: paths, bodies, retries, errors."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses
from django.core.cache import caches
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from covage import client as client_module
from covage.client import CovageClient, get_client, reset_client
from covage.errors import (
    CovageAuthenticationError,
    CovageError,
    CovageNotFound,
    CovagePermissionDenied,
    CovageRateLimited,
    CovageUnavailable,
    CovageValidationError,
)
from covage.schemas import ContactInformation, LinePayload

API = "https://api.covage.test"
TOKEN_URL = "https://auth.covage.test/auth/realms/covage/protocol/openid-connect/token"
PASSWORD = "s3cret-Pa55word"
SESSION_ID = "0b10ba8a-3c31-44ba-a758-d178ec0bb166"
LINE_ID = "259a1c5b-8462-4c5e-90d0-90d135763378"
EMAIL = "John.Doe@unknown.com"
PHONE = "0123456789"


@pytest.fixture(autouse=True)
def _locmem_cache(settings: Any) -> Iterator[None]:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "covage-client-tests",
        }
    }
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(
            TOKEN_URL,
            json={
                "access_token": "access-1",
                "expires_in": 300,
                "refresh_token": "refresh-1",
                "refresh_expires_in": 1800,
                "token_type": "Bearer",
            },
        )
        yield rsps


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(waits: list[float]) -> CovageClient:
    return CovageClient(
        base_url=API + "/",
        token_url=TOKEN_URL,
        client_id="api-client",
        username="demo",
        password=PASSWORD,
        connect_timeout=1.5,
        read_timeout=7.0,
        max_retries=3,
        backoff_base=0.5,
        backoff_max=1.5,
        max_retry_after=10.0,
        sleep=waits.append,
        # The upper bound of the jitter range, so that waits are exact.
        jitter=lambda low, high: high,
    )


def api_calls(rsps: responses.RequestsMock) -> list[Any]:
    return [call for call in rsps.calls if call.request.url != TOKEN_URL]


def body_of(call: Any) -> Any:
    return json.loads(call.request.body)


def session_json(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "external_id": "portal-42",
        "project_id": "",
        "id": SESSION_ID,
        "creation_date": "2025-04-10T12:11:57.548+02:00",
        "cancellation_date": None,
        "completion_date": None,
        "order_date": None,
        "state": "created",
    }
    data.update(extra)
    return data


def line_json(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": LINE_ID,
        "product_order_id": SESSION_ID,
        "state": "created",
        "enni2": "E2",
        "vlan_reference": "1257",
        "cpe_network_number": "NET-1",
        "related_contact_information": [
            {"contact1_email_address": EMAIL, "contact1_phone_number": PHONE}
        ],
    }
    data.update(extra)
    return data


def payload() -> LinePayload:
    return LinePayload(
        product_offering_id="2173",
        product_offering_qualification_item_id="elig-1",
        external_id="line-7",
        enni="AZ001234",
        enni_2="AZ000002",
        vlan_reference=1257,
        cpe_networking_number="NET-1",
        related_contact_information=[
            ContactInformation(
                contact1_email_address=EMAIL,
                contact1_phone_number=PHONE,
                contact1_firstname="John",
                contact1_lastname="Doe",
                postcode="76130",
            )
        ],
    )


def connect_refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, API, reason))  # type: ignore[arg-type]


# --- Every endpoint: method, path, body -----------------------------------------------------


def test_create_session(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.post(f"{API}/api/v1/product_order", json=session_json(), status=201)
    session = client.create_session(external_id="portal-42", project_id="PRJ1")
    assert session.id == SESSION_ID and session.state == "created"
    call = api_calls(mock)[0]
    assert call.request.method == "POST"
    assert call.request.url == f"{API}/api/v1/product_order"
    assert body_of(call) == {"external_id": "portal-42", "project_id": "PRJ1"}
    assert call.request.headers["Authorization"] == "Bearer access-1"
    assert call.request.req_kwargs["timeout"] == (1.5, 7.0)


def test_get_session(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.get(f"{API}/api/v1/product_order/{SESSION_ID}/", json=session_json(state="partial"))
    session = client.get_session(SESSION_ID)
    assert session.state == "partial" and session.is_final
    assert api_calls(mock)[0].request.req_kwargs["timeout"] == (1.5, 7.0)


def test_find_sessions_filters_on_external_id(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.get(
        f"{API}/api/v1/product_order",
        match=[matchers.query_param_matcher({"external_id": "portal-42"})],
        # A server that ignores the filter must not make us adopt someone else's session.
        json=[session_json(), session_json(id="other", external_id="portal-4")],
    )
    sessions = client.find_sessions(external_id="portal-42")
    assert [session.id for session in sessions] == [SESSION_ID]


def test_create_line_sends_the_tables_names(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.post(
        f"{API}/api/v1/product_order/{SESSION_ID}/product_order_item", json=line_json(), status=201
    )
    line = client.create_line(SESSION_ID, payload())
    assert (line.id, line.enni_2, line.vlan_reference, line.cpe_networking_number) == (
        LINE_ID,
        "E2",
        1257,
        "NET-1",
    )
    sent = body_of(api_calls(mock)[0])
    assert sent["enni_2"] == "AZ000002" and "enni2" not in sent
    assert sent["cpe_networking_number"] == "NET-1"
    assert sent["vlan_reference"] == 1257
    assert sent["related_contact_information"][0]["postcode"] == "76130"
    assert len(sent) == 24  # 26 fields, minus the unset date and siret_known


def test_update_line_patches_only_the_given_fields(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    url = f"{API}/api/v1/product_order/{SESSION_ID}/product_order_item/{LINE_ID}"
    mock.patch(url, json=line_json(note="hi"))
    line = client.update_line(SESSION_ID, LINE_ID, payload(), fields={"enni", "vlan_reference"})
    assert line.note == "hi"
    call = api_calls(mock)[0]
    assert call.request.method == "PATCH" and call.request.url == url
    assert body_of(call) == {"enni": "AZ001234", "vlan_reference": 1257}


def test_update_line_sends_exactly_the_patch_tables_fields(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    url = f"{API}/api/v1/product_order/{SESSION_ID}/product_order_item/{LINE_ID}"
    mock.patch(url, json=line_json())
    client.update_line(SESSION_ID, LINE_ID, payload())
    sent = body_of(api_calls(mock)[0])
    # The PATCH table lists the POST's fields less the offer family and technology.
    assert set(sent) == LinePayload.field_names() - {"offer_family", "offer_technology"}
    assert set(sent) == LinePayload.update_field_names()


@pytest.mark.parametrize("field", ["offer_family", "offer_technology"])
def test_update_line_refuses_to_send_an_offer_field(
    mock: responses.RequestsMock, client: CovageClient, field: str
) -> None:
    with pytest.raises(ValueError, match="delete the line and create it anew"):
        client.update_line(SESSION_ID, LINE_ID, payload(), fields={field, "note"})
    assert api_calls(mock) == []


def test_delete_line_uses_the_documented_path_without_v1(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    url = f"{API}/api/product_order/{SESSION_ID}/product_order_item/{LINE_ID}/"
    mock.delete(
        url,
        json={
            "external_id": "portal-42",
            "project_id": "",
            "id": SESSION_ID,
            "product_order_item": [],
        },
    )
    session = client.delete_line(SESSION_ID, LINE_ID)
    assert session.id == SESSION_ID and session.items == []
    call = api_calls(mock)[0]
    assert call.request.method == "DELETE" and call.request.url == url
    assert "/v1/" not in call.request.url


def test_delete_line_accepts_an_empty_204(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.delete(f"{API}/api/product_order/{SESSION_ID}/product_order_item/{LINE_ID}/", status=204)
    assert client.delete_line(SESSION_ID, LINE_ID).id == SESSION_ID


def test_confirm_session(mock: responses.RequestsMock, client: CovageClient) -> None:
    url = f"{API}/api/v1/product_order/{SESSION_ID}/confirm/"
    mock.patch(
        url,
        json={
            "external_id": "portal-42",
            "project_id": "",
            "id": SESSION_ID,
            "product_order_item": [line_json(state="in_progress")],
        },
    )
    session = client.confirm_session(SESSION_ID)
    assert [(item.id, item.state) for item in session.items] == [(LINE_ID, "in_progress")]
    call = api_calls(mock)[0]
    assert call.request.method == "PATCH" and call.request.url == url


def test_export_start_status_download(
    mock: responses.RequestsMock, client: CovageClient, tmp_path: Path
) -> None:
    task = "550e8400-e29b-41d4-a716-446655440000"
    mock.post(f"{API}/api/v1/product_order/export/csv/", json={"task_id": task})
    mock.get(
        f"{API}/api/v1/product_order/export/{task}/status/",
        json={"task_id": task, "success": True, "started": "2025-07-08T10:30:00Z", "stopped": None},
    )
    mock.get(
        f"{API}/api/v1/product_order/export/{task}/download/",
        body=b"id;state\n1;created\n",
        content_type="text/csv",
    )
    assert client.start_export() == task
    status = client.export_status(task)
    assert status.success is True and status.stopped is None
    target = tmp_path / "export.csv"
    assert client.download_export(task, target) == 19
    assert target.read_bytes() == b"id;state\n1;created\n"
    assert not (tmp_path / "export.csv.part").exists()
    download = api_calls(mock)[2]
    assert download.request.req_kwargs["stream"] is True


class RecordingFile(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, data: Any) -> int:
        self.sizes.append(len(data))
        return super().write(data)


def test_download_streams_a_big_body_in_chunks(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    big = b"0123456789abcdef" * 40_000  # 640 000 bytes
    mock.get(f"{API}/api/v1/product_order/export/T/download/", body=big, content_type="text/csv")
    target = RecordingFile()
    assert client.download_export("T", target) == len(big)
    assert target.getvalue() == big
    assert len(target.sizes) >= 10
    assert max(target.sizes) <= 64 * 1024


def test_download_error_writes_nothing(
    mock: responses.RequestsMock, client: CovageClient, tmp_path: Path
) -> None:
    mock.get(
        f"{API}/api/v1/product_order/export/T/download/", json={"detail": "Not found."}, status=404
    )
    target = tmp_path / "export.csv"
    with pytest.raises(CovageNotFound, match="Not found"):
        client.download_export("T", target)
    assert not target.exists() and not (tmp_path / "export.csv.part").exists()


def test_start_export_rate_limited_is_raised_not_waited(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float]
) -> None:
    mock.post(f"{API}/api/v1/product_order/export/csv/", status=429, headers={"Retry-After": "3"})
    with pytest.raises(CovageRateLimited) as caught:
        client.start_export()
    assert caught.value.retry_after == 3.0
    assert waits == [] and len(api_calls(mock)) == 1


def test_referentials_and_their_filters(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.get(
        f"{API}/api/v1/referential/project",
        match=[matchers.query_param_matcher({"code": "PRJ1", "active": "true"})],
        json=[{"code": "PRJ1", "active": True, "start_date": "2024-01-01", "end_date": None}],
    )
    mock.get(
        f"{API}/api/v1/referential/enni/",
        match=[
            matchers.query_param_matcher(
                {"offer": "BPE", "delivery_mode": "standard", "active": "false", "dsp": "D"}
            )
        ],
        json=[{"Code": "E1", "reference": "CN012345", "offer": "BPE"}],
    )
    projects = client.list_projects(code="PRJ1", active=True)
    assert [project.code for project in projects] == ["PRJ1"]
    ennis = client.list_ennis(offer="BPE", delivery_mode="standard", active=False, dsp="D")
    assert [(enni.code, enni.reference) for enni in ennis] == [("E1", "CN012345")]


def test_order_tracking(mock: responses.RequestsMock, client: CovageClient) -> None:
    order = {
        "order_reference": "CMD_X_1",
        "id": "PO_1",
        "state": "in_progress",
        "order_date": "2025-04-23",
    }
    mock.get(
        f"{API}/api/v1/order/",
        match=[matchers.query_param_matcher({"state": "active", "project_id": "P"})],
        json=[order],
    )
    mock.get(f"{API}/api/v1/order/CMD_X_1/", json=order)
    mock.get(
        f"{API}/api/v1/order/CMD_X_1/historic/",
        json=[{"step": "production_manager_assigned", "date": "2025-04-24T09:00:00+02:00"}],
    )
    assert [o.order_reference for o in client.list_orders(state="active", project_id="P")] == [
        "CMD_X_1"
    ]
    assert client.get_order("CMD_X_1").state == "in_progress"
    steps = client.get_order_historic("CMD_X_1")
    assert [step.code for step in steps] == ["production_manager_assigned"]


def test_ids_are_quoted_in_paths(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.get(f"{API}/api/v1/order/A%2FB/", json={"order_reference": "A/B", "state": "active"})
    assert client.get_order("A/B").order_reference == "A/B"


# --- Pagination -----------------------------------------------------------------------------


def test_pages_are_followed(mock: responses.RequestsMock, client: CovageClient) -> None:
    url = f"{API}/api/v1/referential/project"
    mock.get(
        url,
        match=[matchers.query_param_matcher({"active": "true"})],
        json={"count": 3, "next": f"{url}?active=true&page=2", "results": [{"code": "A"}]},
    )
    mock.get(
        url,
        match=[matchers.query_param_matcher({"active": "true", "page": "2"})],
        json={"next": "/api/v1/referential/project?active=true&page=3", "results": [{"code": "B"}]},
    )
    mock.get(
        url,
        match=[matchers.query_param_matcher({"active": "true", "page": "3"})],
        json={"next": None, "results": [{"code": "C"}]},
    )
    assert [project.code for project in client.list_projects(active=True)] == ["A", "B", "C"]


def test_next_page_on_another_host_is_refused(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.get(
        f"{API}/api/v1/order/",
        json={"next": "https://evil.test/steal", "results": [{"order_reference": "A"}]},
    )
    with pytest.raises(CovageError, match="another host"):
        client.list_orders()
    assert all("evil" not in call.request.url for call in mock.calls)


def test_unexpected_list_shape(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.get(f"{API}/api/v1/order/", json={"items": []})
    with pytest.raises(CovageError, match="neither a list nor a page"):
        client.list_orders()


# --- Retries --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_retried_with_exponential_backoff(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float], status: int
) -> None:
    url = f"{API}/api/v1/product_order/{SESSION_ID}/"
    mock.get(url, status=status)
    mock.get(url, status=status)
    mock.get(url, status=status)
    mock.get(url, json=session_json())
    assert client.get_session(SESSION_ID).id == SESSION_ID
    # base 0.5 doubling, capped at backoff_max 1.5.
    assert waits == [0.5, 1.0, 1.5]
    assert len(api_calls(mock)) == 4


def test_get_gives_up_after_max_retries(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float]
) -> None:
    mock.get(f"{API}/api/v1/product_order/{SESSION_ID}/", status=503)
    with pytest.raises(CovageUnavailable) as caught:
        client.get_session(SESSION_ID)
    assert caught.value.status == 503
    assert caught.value.ambiguous is False
    assert len(api_calls(mock)) == 4  # 1 + max_retries
    assert len(waits) == 3


@pytest.mark.parametrize(
    "failure",
    [
        requests.ReadTimeout("slow"),
        requests.ConnectTimeout("slow"),
        connect_refused(),
        requests.ConnectionError("reset"),
    ],
)
def test_patch_and_delete_retried_on_timeouts_and_connection_errors(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float], failure: Exception
) -> None:
    patch_url = f"{API}/api/v1/product_order/{SESSION_ID}/product_order_item/{LINE_ID}"
    delete_url = f"{API}/api/product_order/{SESSION_ID}/product_order_item/{LINE_ID}/"
    mock.patch(patch_url, body=failure)
    mock.patch(patch_url, json=line_json())
    mock.delete(delete_url, body=failure)
    mock.delete(delete_url, body=failure)
    mock.delete(delete_url, json={"id": SESSION_ID, "product_order_item": []})
    assert client.update_line(SESSION_ID, LINE_ID, payload()).id == LINE_ID
    assert client.delete_line(SESSION_ID, LINE_ID).id == SESSION_ID
    assert waits == [0.5, 0.5, 1.0]


def test_retries_exhausted_on_timeouts(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float]
) -> None:
    mock.get(f"{API}/api/v1/order/CMD/", body=requests.ReadTimeout("slow"))
    with pytest.raises(CovageUnavailable) as caught:
        client.get_order("CMD")
    assert caught.value.reason == "read_timeout"
    assert caught.value.ambiguous is False  # a GET changes nothing
    assert len(api_calls(mock)) == 4


def test_real_jitter_stays_within_the_backoff_window(mock: responses.RequestsMock) -> None:
    slept: list[float] = []
    real = CovageClient(
        base_url=API,
        token_url=TOKEN_URL,
        client_id="api-client",
        username="demo",
        password=PASSWORD,
        max_retries=4,
        backoff_base=1.0,
        backoff_max=5.0,
        sleep=slept.append,
    )
    mock.get(f"{API}/api/v1/order/", status=502)
    with pytest.raises(CovageUnavailable):
        real.list_orders()
    assert len(slept) == 4
    for attempt, wait in enumerate(slept):
        assert 0 <= wait <= min(5.0, 2**attempt)


def test_500_is_not_retried(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.get(f"{API}/api/v1/order/", status=500)
    with pytest.raises(CovageUnavailable) as caught:
        client.list_orders()
    assert caught.value.status == 500
    assert len(api_calls(mock)) == 1


@pytest.mark.parametrize(
    ("mock_kwargs", "ambiguous"),
    [
        ({"status": 503}, True),
        ({"status": 502}, True),
        ({"body": requests.ReadTimeout("slow")}, True),
        ({"body": requests.ConnectionError("reset after sending")}, True),
        ({"body": requests.ConnectTimeout("slow")}, False),
    ],
)
def test_post_is_never_retried(
    mock: responses.RequestsMock,
    client: CovageClient,
    waits: list[float],
    mock_kwargs: dict[str, Any],
    ambiguous: bool,
) -> None:
    mock.post(f"{API}/api/v1/product_order", **mock_kwargs)
    mock.post(f"{API}/api/v1/product_order", json=session_json())
    with pytest.raises(CovageUnavailable) as caught:
        client.create_session(external_id="portal-42")
    assert caught.value.ambiguous is ambiguous
    assert len(api_calls(mock)) == 1
    assert waits == []


def test_post_refused_connection_is_not_ambiguous(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.post(f"{API}/api/v1/product_order/{SESSION_ID}/product_order_item", body=connect_refused())
    with pytest.raises(CovageUnavailable) as caught:
        client.create_line(SESSION_ID, payload())
    assert caught.value.ambiguous is False
    assert caught.value.reason == "connect"
    assert len(api_calls(mock)) == 1


def test_post_rate_limited_is_raised(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float]
) -> None:
    mock.post(f"{API}/api/v1/product_order", status=429, headers={"Retry-After": "1"})
    with pytest.raises(CovageRateLimited):
        client.create_session(external_id="x")
    assert waits == [] and len(api_calls(mock)) == 1


@pytest.mark.parametrize(
    "mock_kwargs",
    [{"status": 502}, {"status": 503}, {"body": requests.ReadTimeout("slow")}, {"status": 429}],
)
def test_confirm_is_never_retried(
    mock: responses.RequestsMock,
    client: CovageClient,
    waits: list[float],
    mock_kwargs: dict[str, Any],
) -> None:
    url = f"{API}/api/v1/product_order/{SESSION_ID}/confirm/"
    mock.patch(url, **mock_kwargs)
    mock.patch(url, json={"id": SESSION_ID, "product_order_item": []})
    with pytest.raises(CovageError) as caught:
        client.confirm_session(SESSION_ID)
    if isinstance(caught.value, CovageUnavailable):
        assert caught.value.ambiguous is True
    else:
        assert isinstance(caught.value, CovageRateLimited)
    assert len(api_calls(mock)) == 1
    assert waits == []


# --- 429 ------------------------------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float]
) -> None:
    url = f"{API}/api/v1/order/"
    mock.get(url, status=429, headers={"Retry-After": "3"})
    mock.get(url, status=429, headers={"Retry-After": "7"})
    mock.get(url, json=[])
    assert client.list_orders() == []
    assert waits == [3.0, 7.0]


def test_429_with_an_http_date(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float]
) -> None:
    url = f"{API}/api/v1/order/"
    when = datetime.now(UTC) + timedelta(seconds=5)
    mock.get(url, status=429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    mock.get(url, json=[])
    client.list_orders()
    assert len(waits) == 1 and 3.0 <= waits[0] <= 5.0


@pytest.mark.parametrize(("header", "expected"), [("120", 120.0), (None, 60.0)])
def test_429_too_long_is_raised_for_the_caller_to_reschedule(
    mock: responses.RequestsMock,
    client: CovageClient,
    waits: list[float],
    header: str | None,
    expected: float,
) -> None:
    headers = {"Retry-After": header} if header else {}
    mock.get(f"{API}/api/v1/order/", status=429, headers=headers)
    with pytest.raises(CovageRateLimited) as caught:
        client.list_orders()
    assert caught.value.retry_after == expected
    assert caught.value.status == 429
    assert waits == []
    assert len(api_calls(mock)) == 1


def test_429_gives_up_after_max_retries(
    mock: responses.RequestsMock, client: CovageClient, waits: list[float]
) -> None:
    mock.get(f"{API}/api/v1/order/", status=429, headers={"Retry-After": "2"})
    with pytest.raises(CovageRateLimited):
        client.list_orders()
    assert waits == [2.0, 2.0, 2.0]
    assert len(api_calls(mock)) == 4


# --- 401 and the token ----------------------------------------------------------------------


def test_401_logs_in_afresh_once_and_repeats_even_a_post(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.post(TOKEN_URL, json={"access_token": "access-2", "expires_in": 300})
    url = f"{API}/api/v1/product_order"
    mock.post(url, status=401)
    mock.post(url, json=session_json(), status=201)
    assert client.create_session(external_id="portal-42").id == SESSION_ID
    calls = api_calls(mock)
    assert [call.request.headers["Authorization"] for call in calls] == [
        "Bearer access-1",
        "Bearer access-2",
    ]
    token_calls = [call for call in mock.calls if call.request.url == TOKEN_URL]
    assert len(token_calls) == 2
    assert "grant_type=password" in token_calls[1].request.body


def test_second_401_raises(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.post(TOKEN_URL, json={"access_token": "access-2", "expires_in": 300})
    mock.get(f"{API}/api/v1/order/", status=401, json={"detail": "Invalid token."})
    with pytest.raises(CovageAuthenticationError) as caught:
        client.list_orders()
    assert caught.value.status == 401
    assert "Invalid token." in str(caught.value)
    assert len(api_calls(mock)) == 2


def test_token_endpoint_down_before_a_get_is_retried(
    client: CovageClient, waits: list[float]
) -> None:
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=503)
        rsps.post(TOKEN_URL, json={"access_token": "access-9", "expires_in": 300})
        rsps.get(f"{API}/api/v1/order/", json=[])
        assert client.list_orders() == []
        assert waits == [0.5]


# --- Errors ---------------------------------------------------------------------------------


def test_validation_error_with_nested_field_paths(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.post(
        f"{API}/api/v1/product_order/{SESSION_ID}/product_order_item",
        status=400,
        json={
            "enni": ["This field is required."],
            "related_contact_information": [
                {},
                {"postcode": ["Invalid postcode."], "contact1_email_address": ["Bad e-mail."]},
            ],
            "non_field_errors": ["Option 7021 needs a CPE."],
        },
    )
    with pytest.raises(CovageValidationError) as caught:
        client.create_line(SESSION_ID, payload())
    error = caught.value
    assert error.status == 400
    assert error.method == "POST"
    assert error.path == f"/api/v1/product_order/{SESSION_ID}/product_order_item"
    assert error.field_errors == {
        "enni": ["This field is required."],
        "related_contact_information[1].postcode": ["Invalid postcode."],
        "related_contact_information[1].contact1_email_address": ["Bad e-mail."],
        "non_field_errors": ["Option 7021 needs a CPE."],
    }
    assert "enni: This field is required." in str(error)


@pytest.mark.parametrize(
    ("body", "detail_part", "field_errors"),
    [
        ({"detail": "Session already confirmed."}, "Session already confirmed.", {}),
        ("Plain string error", "Plain string error", {}),
        (["first", "second"], "first second", {"non_field_errors": ["first", "second"]}),
        (
            {"vlan_reference": "must be a number"},
            "vlan_reference",
            {"vlan_reference": ["must be a number"]},
        ),
        ({"a": {"b": ["deep"]}}, "a.b: deep", {"a.b": ["deep"]}),
    ],
)
def test_validation_error_body_shapes(
    mock: responses.RequestsMock,
    client: CovageClient,
    body: Any,
    detail_part: str,
    field_errors: dict[str, list[str]],
) -> None:
    mock.patch(f"{API}/api/v1/product_order/{SESSION_ID}/confirm/", status=422, json=body)
    with pytest.raises(CovageValidationError) as caught:
        client.confirm_session(SESSION_ID)
    assert detail_part in str(caught.value)
    assert caught.value.field_errors == field_errors
    assert caught.value.status == 422


def test_validation_error_with_a_non_json_body(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.post(f"{API}/api/v1/product_order", status=400, body="Bad Request: broken JSON")
    with pytest.raises(CovageValidationError) as caught:
        client.create_session(external_id="x")
    assert caught.value.field_errors == {}
    assert "Bad Request: broken JSON" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (403, CovagePermissionDenied),
        (404, CovageNotFound),
        (409, CovageError),
        (418, CovageError),
    ],
)
def test_status_to_error_class(
    mock: responses.RequestsMock,
    client: CovageClient,
    status: int,
    error_class: type[CovageError],
) -> None:
    mock.get(f"{API}/api/v1/order/CMD/", status=status, json={"detail": "Nope."})
    with pytest.raises(CovageError) as caught:
        client.get_order("CMD")
    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert caught.value.method == "GET"
    assert caught.value.path == "/api/v1/order/CMD/"
    assert "Nope." in str(caught.value)


def test_html_error_pages_are_not_quoted(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.get(f"{API}/api/v1/order/CMD/", status=404, body="<html><body>Not Found</body></html>")
    with pytest.raises(CovageNotFound) as caught:
        client.get_order("CMD")
    assert "<html>" not in str(caught.value)


def test_non_json_success_body(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.get(f"{API}/api/v1/order/CMD/", body="<html>proxy login</html>", content_type="text/html")
    with pytest.raises(CovageError, match="not JSON"):
        client.get_order("CMD")


def test_malformed_success_bodies(mock: responses.RequestsMock, client: CovageClient) -> None:
    mock.post(f"{API}/api/v1/product_order", json={"state": "created"})
    with pytest.raises(CovageError, match="no order session id"):
        client.create_session(external_id="x")
    mock.get(f"{API}/api/v1/order/CMD/", json=["not", "an", "object"])
    with pytest.raises(CovageError, match="unexpected shape"):
        client.get_order("CMD")
    mock.post(f"{API}/api/v1/product_order/export/csv/", json={"nothing": 1})
    with pytest.raises(CovageError, match="no task_id"):
        client.start_export()


# --- Redirects ------------------------------------------------------------------------------


def test_redirect_to_the_slash_variant_reissues_the_same_method(
    mock: responses.RequestsMock, client: CovageClient
) -> None:
    mock.post(
        f"{API}/api/v1/product_order",
        status=301,
        headers={"Location": f"{API}/api/v1/product_order/"},
    )
    mock.post(f"{API}/api/v1/product_order/", json=session_json(), status=201)
    assert client.create_session(external_id="portal-42").id == SESSION_ID
    calls = api_calls(mock)
    assert [call.request.method for call in calls] == ["POST", "POST"]
    assert body_of(calls[1]) == {"external_id": "portal-42", "project_id": ""}


def test_redirect_elsewhere_is_an_error(mock: responses.RequestsMock, client: CovageClient) -> None:
    url = f"{API}/api/product_order/{SESSION_ID}/product_order_item/{LINE_ID}/"
    mock.delete(url, status=302, headers={"Location": "/login/"})
    with pytest.raises(CovageError, match="does not follow redirects"):
        client.delete_line(SESSION_ID, LINE_ID)
    assert len(api_calls(mock)) == 1


# --- Logging --------------------------------------------------------------------------------


def test_logs_hold_ids_but_no_secret_or_personal_data(
    mock: responses.RequestsMock, client: CovageClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mock.post(f"{API}/api/v1/product_order/{SESSION_ID}/product_order_item", json=line_json())
    mock.patch(
        f"{API}/api/v1/product_order/{SESSION_ID}/product_order_item/{LINE_ID}",
        status=400,
        json={
            "related_contact_information": [{"contact1_email_address": [f"{EMAIL} is not valid."]}]
        },
    )
    client.create_line(SESSION_ID, payload())
    with pytest.raises(CovageValidationError):
        client.update_line(SESSION_ID, LINE_ID, payload())
    text = caplog.text
    assert SESSION_ID in text and LINE_ID in text
    assert "status=201" in text or "status=200" in text
    assert "duration_ms=" in text and "attempt=1" in text
    assert "related_contact_information[0].contact1_email_address" in text
    for secret in (PASSWORD, "access-1", "refresh-1", EMAIL, PHONE, "John", "Doe"):
        assert secret not in text, secret


# --- The per-process client -----------------------------------------------------------------


def test_get_client_is_cached_and_built_from_settings(settings: Any) -> None:
    settings.COVAGE_API_URL = "https://api.example.test/"
    settings.COVAGE_PASSWORD = "settings-Pa55word"
    reset_client()
    try:
        first = get_client()
        assert get_client() is first
        assert first.base_url == "https://api.example.test"
        assert first.max_retries == settings.COVAGE_MAX_RETRIES
        assert "settings-Pa55word" not in repr(first)
        assert "settings-Pa55word" not in repr(first.tokens)
    finally:
        reset_client()


def test_get_client_rebuilt_after_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    reset_client()
    try:
        first = get_client()
        monkeypatch.setattr(client_module.os, "getpid", lambda: -1)
        assert get_client() is not first
    finally:
        reset_client()


def test_the_environment_proxy_and_ca_bundle_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", urlsplit(TOKEN_URL).hostname)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    session = CovageClient(
        base_url=API, token_url=TOKEN_URL, client_id="c", username="demo", password=PASSWORD
    )._session
    for name in ("HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("HTTPS_PROXY", "http://changed.example:1")

    def effective(url: str) -> tuple[str | None, Any]:
        merged = session.merge_environment_settings(url, {}, None, None, None)
        return requests.utils.select_proxy(url, merged["proxies"]), merged["verify"]

    # The API through the proxy of the environment the client was built in; the token
    # endpoint (NO_PROXY) directly; the same CA bundle for both.
    assert effective(API + "/order_sessions/") == (
        "http://proxy.example:3128",
        "/etc/ssl/company.pem",
    )
    assert effective(TOKEN_URL) == (None, "/etc/ssl/company.pem")
