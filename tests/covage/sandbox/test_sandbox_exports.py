"""CSV exports: rate limit, status, injected failure, streamed download, isolation."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.http import StreamingHttpResponse
from django.utils import timezone

from covage.sandbox.models import ExportTask, SandboxAccount

pytestmark = [pytest.mark.urls("covage.sandbox.urls"), pytest.mark.django_db]

START = "/api/v1/product_order/export/csv/"


def start(api) -> str:
    response = api.post(START)
    assert response.status_code == 201, response.content
    task_id = response.json()["task_id"]
    assert str(uuid.UUID(task_id)) == task_id
    return task_id


def download(api, task_id: str) -> tuple[object, str]:
    response = api.get(f"/api/v1/product_order/export/{task_id}/download/")
    if response.status_code != 200:
        return response, ""
    assert isinstance(response, StreamingHttpResponse)
    return response, b"".join(response.streaming_content).decode("utf-8")


def test_one_export_per_window_with_retry_after(api, knobs) -> None:
    start(api)
    response = api.post(START)
    assert response.status_code == 429
    assert set(response.json()) == {"detail"}
    retry_after = int(response["Retry-After"])
    assert 299 <= retry_after <= 300
    # After the window, a new export is accepted.
    SandboxAccount.objects.update(last_export_at=timezone.now() - timedelta(seconds=301))
    assert api.post(START.rstrip("/")).status_code == 201


def test_retry_after_counts_down(api) -> None:
    start(api)
    SandboxAccount.objects.update(last_export_at=timezone.now() - timedelta(seconds=250))
    response = api.post(START)
    assert response.status_code == 429
    assert 49 <= int(response["Retry-After"]) <= 50


def test_window_is_per_account(api, other_api) -> None:
    start(api)
    assert other_api.post(START).status_code == 201


def test_status_is_null_then_true(api, knobs) -> None:
    knobs(EXPORT_DELAY=60)
    task_id = start(api)
    response = api.get(f"/api/v1/product_order/export/{task_id}/status/")
    assert response.status_code == 200
    body = response.json()
    assert body["task_id"] == task_id
    assert body["success"] is None
    assert body["started"] is not None
    assert body["stopped"] is None
    assert download(api, task_id)[0].status_code == 404  # not finished
    ExportTask.objects.update(started=timezone.now() - timedelta(seconds=61))
    body = api.get(f"/api/v1/product_order/export/{task_id}/status").json()
    assert body["success"] is True
    assert body["stopped"] is not None and body["stopped"] > body["started"]


def test_injected_failure_gives_false_and_no_file(api, knobs) -> None:
    knobs(EXPORT_FAILURE_RATE=1.0)
    task_id = start(api)
    body = api.get(f"/api/v1/product_order/export/{task_id}/status/").json()
    assert body["success"] is False
    assert body["stopped"] is not None
    assert download(api, task_id)[0].status_code == 404


def test_unknown_and_foreign_tasks_are_404(api, other_api) -> None:
    task_id = start(api)
    for path in (
        f"/api/v1/product_order/export/{uuid.uuid4()}/status/",
        f"/api/v1/product_order/export/{uuid.uuid4()}/download/",
        "/api/v1/product_order/export/garbage/status/",
        f"/api/v1/product_order/export/{task_id}/status/",
        f"/api/v1/product_order/export/{task_id}/download/",
    ):
        assert other_api.get(path).status_code == 404, path


def test_download_streams_rows_with_accents(api, other_api, line, contact_info) -> None:
    session = api.new_session(external_id="ext-é", project_id="PRJ-2024-001")
    first = api.new_line(
        session["id"],
        **line(
            specific_request="Accès par la cour, côté géomètre",
            related_contact_information=[
                contact_info(city="Évreux", street_name="Rue de l'Église")
            ],
        ),
    )
    second = api.new_line(session["id"], **line(note='a "quoted"; note', option_ids=["1", "2"]))
    empty = api.new_session(external_id="no-lines")
    foreign = other_api.new_session(external_id="foreign")
    other_api.new_line(foreign["id"], **line(note="not mine"))

    response, text = download(api, start(api))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [row["id"] for row in rows] == [first["id"], second["id"], ""]
    assert rows[0]["product_order_id"] == session["id"]
    assert rows[0]["product_order_external_id"] == "ext-é"
    assert rows[0]["specific_request"] == "Accès par la cour, côté géomètre"
    assert rows[0]["contact_city"] == "Évreux"
    assert rows[0]["contact_street_name"] == "Rue de l'Église"
    assert rows[0]["vlan_reference"] == "1257"
    assert rows[0]["temporary_reference"] == first["temporary_reference"]
    assert rows[1]["note"] == 'a "quoted"; note'
    assert rows[1]["option_ids"] == "1|2"
    assert rows[2]["product_order_id"] == empty["id"]
    assert "not mine" not in text
    assert "foreign" not in text


def test_download_shows_resolved_states(api, line) -> None:
    session = api.new_session()
    api.new_line(session["id"], **line(enni=""))
    api.confirm(session["id"])
    _, text = download(api, start(api))
    (row,) = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert row["product_order_state"] == "rejected"
    assert row["state"] == "rejected_creation"
    assert row["termination_error"] == "required:enni"


def test_padding_reaches_min_bytes_in_chunks(api, knobs, line) -> None:
    knobs(EXPORT_MIN_BYTES=300_000)
    session = api.new_session()
    api.new_line(session["id"], **line())
    response = api.get(f"/api/v1/product_order/export/{start(api)}/download/")
    chunks = list(response.streaming_content)
    data = b"".join(chunks)
    assert 300_000 <= len(data) < 300_000 + 70 * 1024
    assert len(chunks) >= 4
    assert max(len(chunk) for chunk in chunks) < 70 * 1024
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter=";"))
    assert len(rows) > 100
    assert rows[0]["product_order_id"] == session["id"]
    assert rows[-1]["end_customer_name"].startswith("Société Démo")
    assert len({row["id"] for row in rows}) == len(rows)
