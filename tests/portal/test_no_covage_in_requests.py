"""No request opens a connection to Covage (DESIGN.md, data flow 7).

Every page of the portal (orders, exports, reconciliation, the home page, the account pages and
the admin's pages of those apps) is read with GET, plain and as htmx, by a salesperson and by
the back office, with a cold cache, Covage's lists stored or never stored, and Covage at an
address that refuses connections. Each answers quickly without a server error, and nothing
tried to reach Covage: the guard (covage/guard.py) would have raised and logged, and
`responses` records any HTTP request made through `requests` at all.

The guard itself: a view that uses the client is refused with a clear, logged error, while a
Celery task run eagerly inside a request (the tests' `task_always_eager`) may call Covage.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from django.contrib import admin
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils import timezone
from factories import back_office_user, sales_user

from bulk.models import ImportBatch, ImportRow
from covage import guard
from covage.client import CovageClient, get_client, reset_client
from exports.models import ExportJob
from orders import services, tasks
from orders.models import ReferentialSnapshot
from orders.steps import STEPS
from reconciliation.models import Difference

# Measured before the referentials were stored: about 4 s per form page with Covage silent.
FAST_ENOUGH = 2.0
ADMIN_APPS = ("orders", "exports", "reconciliation", "bulk")
# The admin's pages of ADMIN_APPS are listed from its registry instead.
SKIPPED = {"admin"}


def walked_patterns() -> list[tuple[str, list[str]]]:
    """(URL name, converter names) of every named pattern of the project outside the admin."""
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: list[Any], namespace: str, converters: list[str]) -> None:
        for entry in patterns:
            names = converters + list(entry.pattern.converters)
            if isinstance(entry, URLResolver):
                if entry.namespace in SKIPPED:
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner, names)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((namespace + entry.name, names))

    walk(get_resolver().url_patterns, "", [])
    return found


@pytest.fixture(autouse=True)
def _fresh_client() -> Iterator[None]:
    # A client kept from a test would hold a connection to a live server that is gone.
    reset_client()
    yield
    reset_client()


@pytest.fixture
def covage_refuses(settings: Any) -> None:
    # Nothing listens on port 9: a connection would be refused at once.
    settings.COVAGE_API_URL = "http://127.0.0.1:9"
    settings.COVAGE_TOKEN_URL = "http://127.0.0.1:9/token"


@pytest.fixture
def world(db: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    """A salesperson's session with a line, a finished export and a reconciliation difference."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    owner = sales_user(username="walk-sales")
    session = services.create_session(user=owner, external_id="WALK-1")
    line = services.add_line(user=owner, session=session)
    now = timezone.now()
    job = ExportJob.objects.create(
        requested_by=owner,
        trigger=ExportJob.Trigger.MANUAL,
        covage_account="demo",
        status=ExportJob.Status.SUCCEEDED,
        task_id="walk-task",
        finished_at=now,
        expires_at=now + dt.timedelta(days=7),
        row_count=1,
        owner_row_count=1,
    )
    data = b"product_order_id;end_customer_name\r\n1;Walk\r\n"
    job.file.save(job.download_filename, ContentFile(data), save=False)
    job.owner_file.save(job.download_filename, ContentFile(data), save=False)
    job.size_bytes = len(data)
    job.save()
    difference = Difference.objects.create(
        kind=Difference.Kind.VALUE,
        key=f"value:line:walk:{line.pk}:end_customer_name",
        export_job=job,
        session=session,
        line=line,
        field="end_customer_name",
        portal_value="Walk",
        covage_value="Walk SA",
    )
    batch = ImportBatch.objects.create(
        session=session, owner=owner, file_name="walk.csv", digest="walk", status="ready"
    )
    ImportRow.objects.create(batch=batch, index=0, number=2, values={"city": "Walk"})
    return {
        "owner": owner,
        "session_pk": session.pk,
        "line_pk": line.pk,
        "job_id": job.pk,
        "pk": difference.pk,
        "batch_pk": batch.pk,
        "index": 0,
        "fmt": "xlsx",
        "objects": [session, line, job, difference, batch],
    }


def urls_to_walk(world: dict[str, Any]) -> list[str]:
    urls = []
    for name, converters in walked_patterns():
        if "step" in converters:
            for step in STEPS:
                kwargs = {key: world[key] for key in converters if key != "step"}
                urls.append(reverse(name, kwargs={**kwargs, "step": step.slug}))
        else:
            urls.append(reverse(name, kwargs={key: world[key] for key in converters}))
    urls.append(reverse("admin:index"))
    for model in admin.site._registry:
        if model._meta.app_label in ADMIN_APPS:
            info = (model._meta.app_label, model._meta.model_name)
            urls.append(reverse("admin:{}_{}_changelist".format(*info)))
    for obj in world["objects"]:
        info = (obj._meta.app_label, obj._meta.model_name)
        urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    return urls


def test_the_walk_covers_every_kind_of_page(db, world):
    names = {name for name, _converters in walked_patterns()}
    assert {"orders:new", "orders:line_step", "orders:enni_options"} <= names
    assert {"exports:list", "exports:download", "reconciliation:list", "home"} <= names
    urls = urls_to_walk(world)
    assert len(urls) == len(set(urls)) > 30


@pytest.mark.django_db
@pytest.mark.parametrize("stored", [False, True], ids=["nothing-stored", "lists-stored"])
@pytest.mark.parametrize("role", ["sales", "back_office"])
def test_no_page_calls_covage(client, world, covage_refuses, caplog, stored, role):
    if stored:
        ReferentialSnapshot.objects.create(
            name=ReferentialSnapshot.Name.PROJECTS,
            refreshed_at=timezone.now(),
            items=[{"code": "PRJ-STORED", "end_date": ""}],
        )
        ReferentialSnapshot.objects.create(
            name=ReferentialSnapshot.Name.ENNIS,
            refreshed_at=timezone.now(),
            items=[{"reference": "CN-STORED", "label": "CN-STORED", "offer": "BPE"}],
        )
    user = world["owner"] if role == "sales" else back_office_user(username="walk-bo")
    client.force_login(user)
    caplog.set_level(logging.WARNING)
    answers: dict[str, int] = {}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        for url in urls_to_walk(world):
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                started = time.monotonic()
                response = client.get(url, **headers)
                if response.streaming:
                    b"".join(response.streaming_content)
                elapsed = time.monotonic() - started
                assert response.status_code < 500, (url, headers, response.status_code)
                assert elapsed < FAST_ENOUGH, (url, headers, f"{elapsed:.2f} s")
                answers[url] = response.status_code
        assert len(http.calls) == 0, [call.request.url for call in http.calls]
    assert not [record for record in caplog.records if record.name.startswith("covage")]

    # The order pages were really shown, not refused: the walk read them.
    step = reverse("orders:line_step", args=[world["session_pk"], world["line_pk"], "technical"])
    for url in (reverse("orders:new"), step, reverse("exports:list")):
        assert answers[url] == 200, url
    page = client.get(step).content.decode()
    if stored:
        assert '<select name="enni"' in page and "CN-STORED" in page
    else:
        assert '<input type="text" name="enni"' in page
        assert "list of ENNIs is not available yet" in page


# --- The guard --------------------------------------------------------------------------------


def view_using_the_client(request: Any) -> HttpResponse:
    get_client().list_projects()
    return HttpResponse("unreachable")


def view_building_its_own_client(request: Any) -> HttpResponse:
    with CovageClient.from_settings(max_retries=0) as client:
        client.list_ennis()
    return HttpResponse("unreachable")


urlpatterns = [
    path("uses-covage/", view_using_the_client),
    path("own-client/", view_building_its_own_client),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("/uses-covage/", "covage.client.get_client()"),
        ("/own-client/", "CovageClient: GET /api/v1/referential/enni/"),
    ],
)
def test_a_view_that_calls_covage_is_refused_and_logged(
    client, settings, covage_refuses, caplog, url, refused
):
    settings.ROOT_URLCONF = __name__
    client.force_login(sales_user())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        with pytest.raises(guard.CovageCallInRequest) as raised:
            client.get(url + "?secret=typed")
        assert len(http.calls) == 0
    assert f"{refused} was called while serving GET {url}" in str(raised.value)
    [record] = [record for record in caplog.records if record.name == "covage.guard"]
    assert record.levelname == "ERROR" and f"GET {url}" in record.getMessage()
    assert "secret" not in record.getMessage()
    # Outside the request the same code may call Covage (a task, a command, a test).
    assert isinstance(get_client(), CovageClient)


@pytest.mark.django_db(transaction=True)
def test_a_task_run_inside_a_request_may_call_covage(sandbox_url):
    """What a view does when it saves: its commit runs the queued task eagerly in the tests,
    in the request's thread. The task may call Covage; the view's own code may not."""
    with guard.serving("POST /orders/1/lines/1/offer/"):
        with pytest.raises(guard.CovageCallInRequest):
            get_client()
        counts = tasks.refresh_referentials.apply().get()
        assert counts[ReferentialSnapshot.Name.PROJECTS] == 4
        # The task is over: the request is guarded again.
        with pytest.raises(guard.CovageCallInRequest):
            get_client()
    assert isinstance(get_client(), CovageClient)
