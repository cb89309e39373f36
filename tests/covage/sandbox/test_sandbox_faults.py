"""Fault knobs, call recording, concurrent confirms, and the serving entry points."""

from __future__ import annotations

import importlib
import os
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from covage.sandbox.models import ExportTask, ProductOrder, SandboxAccount, SandboxCall

pytestmark = [pytest.mark.urls("covage.sandbox.urls"), pytest.mark.django_db]

TOKEN_URL = "/auth/realms/covage/protocol/openid-connect/token"


def test_rate_limit_fault(api, knobs) -> None:
    knobs(RATE_LIMIT_RATE=1.0, RATE_LIMIT_RETRY_AFTER=7)
    response = api.post("/api/v1/product_order", {"external_id": "x"})
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert set(response.json()) == {"detail"}
    assert not ProductOrder.objects.exists()


def test_error_fault_answers_before_doing_anything(api, knobs) -> None:
    knobs(ERROR_RATE=1.0)
    statuses = {api.post("/api/v1/product_order").status_code for _ in range(30)}
    assert statuses == {502, 503}
    assert not ProductOrder.objects.exists()


def test_faults_do_not_consume_the_export_window(api, knobs) -> None:
    knobs(ERROR_RATE=1.0)
    assert api.post("/api/v1/product_order/export/csv/").status_code in {502, 503}
    knobs(ERROR_RATE=0.0, RATE_LIMIT_RATE=1.0)
    assert api.post("/api/v1/product_order/export/csv/").status_code == 429
    knobs(RATE_LIMIT_RATE=0.0)
    assert not ExportTask.objects.exists()
    assert SandboxAccount.objects.get(username="demo").last_export_at is None
    assert api.post("/api/v1/product_order/export/csv/").status_code == 201


def test_faults_never_apply_to_the_token_endpoint_nor_before_auth(client: Client, knobs) -> None:
    knobs(ERROR_RATE=1.0, RATE_LIMIT_RATE=1.0)
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "password",
            "client_id": "api-client",
            "username": "demo",
            "password": "demo",
        },
    )
    assert response.status_code == 200
    assert client.get("/api/v1/product_order").status_code == 401


def test_timeout_fault_does_the_work_then_sleeps(api, knobs) -> None:
    knobs(TIMEOUT_RATE=1.0, TIMEOUT_SECONDS=0.3)
    began = time.monotonic()
    response = api.post("/api/v1/product_order", {"external_id": "ambiguous"})
    assert time.monotonic() - began >= 0.3
    assert response.status_code == 201
    assert ProductOrder.objects.filter(external_id="ambiguous").count() == 1


def test_latency(api, knobs) -> None:
    knobs(LATENCY_MS=150)
    began = time.monotonic()
    assert api.get("/api/v1/referential/project").status_code == 200
    assert time.monotonic() - began >= 0.15


def test_seeded_faults_replay(api, knobs) -> None:
    from covage.sandbox import faults

    knobs(SEED="replay", ERROR_RATE=0.5)
    first = [api.get("/api/v1/referential/project").status_code for _ in range(20)]
    faults.reset_rng()
    second = [api.get("/api/v1/referential/project").status_code for _ in range(20)]
    assert first == second
    assert 200 in first and ({502, 503} & set(first))


def test_every_call_is_recorded(client: Client, api, knobs, line) -> None:
    SandboxCall.objects.all().delete()
    session = api.new_session()
    api.new_line(session["id"], **line())
    api.confirm(session["id"])
    client.get("/api/v1/product_order")
    knobs(ERROR_RATE=1.0)
    api.confirm(session["id"])
    calls = list(SandboxCall.objects.order_by("pk"))
    assert [(c.method, c.status, c.account) for c in calls] == [
        ("POST", 201, "demo"),
        ("POST", 201, "demo"),
        ("PATCH", 200, "demo"),
        ("GET", 401, ""),
        ("PATCH", calls[-1].status, "demo"),
    ]
    assert calls[-1].status in {502, 503}
    assert calls[0].path == "/api/v1/product_order"
    assert SandboxCall.objects.filter(method="PATCH", path__endswith="/confirm/").count() == 2
    assert all(call.duration_ms >= 0 for call in calls)


def test_token_calls_are_recorded(client: Client) -> None:
    client.post(
        TOKEN_URL,
        {
            "grant_type": "password",
            "client_id": "api-client",
            "username": "demo",
            "password": "bad",
        },
    )
    client.post(
        TOKEN_URL,
        {
            "grant_type": "password",
            "client_id": "api-client",
            "username": "demo",
            "password": "demo",
        },
    )
    calls = SandboxCall.objects.filter(path=TOKEN_URL).order_by("pk")
    assert [(c.status, c.account) for c in calls] == [(401, ""), (200, "demo")]


def test_unknown_route_is_json_404(api) -> None:
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres") is False,
    reason="thread concurrency needs a server database (SQLite in-memory test DB is shared-cache)",
)
def test_concurrent_confirms_give_one_success(api, line) -> None:
    session = api.new_session()
    api.new_line(session["id"], **line())
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def confirm() -> None:
        barrier.wait()
        try:
            statuses.append(api.confirm(session["id"]).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400, 400]


def test_wsgi_module_selects_the_sandbox_urlconf(monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_URLCONF", "portal.urls")  # restored after the test
    import covage.sandbox.wsgi as wsgi

    importlib.reload(wsgi)
    assert os.environ["PORTAL_URLCONF"] == "covage.sandbox.urls"
    assert callable(wsgi.application)


def test_runsandbox_execs_gunicorn(monkeypatch, capsys) -> None:
    from django.core.management import call_command

    seen: dict[str, list[str]] = {}

    def fake_execvp(file: str, args: list[str]) -> None:
        seen["args"] = args

    monkeypatch.setattr(os, "execvp", fake_execvp)
    call_command("runsandbox", "0.0.0.0:9123", "--threads", "4", "--workers", "2")
    args = seen["args"]
    assert args[1:4] == ["-m", "gunicorn", "covage.sandbox.wsgi:application"]
    assert args[args.index("--bind") + 1] == "0.0.0.0:9123"
    assert args[args.index("--worker-class") + 1] == "gthread"
    assert args[args.index("--threads") + 1] == "4"
    assert args[args.index("--workers") + 1] == "2"
    assert "0.0.0.0:9123" in capsys.readouterr().out
    call_command("runsandbox")
    assert seen["args"][seen["args"].index("--bind") + 1] == "127.0.0.1:8001"
