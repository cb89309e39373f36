"""The comparison's rules on files written here: how values are normalised, exports compared
out of order, files that cannot be read. No Covage is needed."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from covage.sandbox.exports import HEADER, _padding
from exports.models import ExportJob
from orders.models import LineContact, OrderLine, OrderSession, SyncStatus
from orders.wire import line_payload
from reconciliation import services, tasks
from reconciliation.comparison import as_text, same_value
from reconciliation.models import Comparison, Difference

pytestmark = pytest.mark.django_db

Kind = Difference.Kind
Status = Difference.Status


def field(model: type, name: str) -> Any:
    return model._meta.get_field(name)


@pytest.mark.parametrize(
    ("model_field", "portal", "covage", "same"),
    [
        (field(OrderLine, "siret_known"), None, "false", True),  # Covage's empty boolean
        (field(OrderLine, "siret_known"), None, "", True),
        (field(OrderLine, "siret_known"), True, "true", True),
        (field(OrderLine, "siret_known"), True, "True", True),
        (field(OrderLine, "siret_known"), True, "false", False),
        (field(OrderLine, "option_ids"), ["7021", "7022"], "7022|7021", True),
        (field(OrderLine, "option_ids"), [], "", True),
        (field(OrderLine, "option_ids"), ["7021"], "", False),
        (field(OrderLine, "vlan_reference"), 1257, "1257", True),
        (field(OrderLine, "vlan_reference"), 1257, "1257.0", True),
        (field(OrderLine, "vlan_reference"), None, "", True),
        (field(OrderLine, "vlan_reference"), 1257, "", False),
        (field(OrderLine, "vlan_reference"), None, "1257", False),
        (field(LineContact, "latitude"), 49.4744077, "49.4744077", True),
        (field(LineContact, "latitude"), 49.47, "49.470000", True),
        (field(LineContact, "latitude"), 49.47, "abc", False),
        (field(OrderLine, "scheduled_delivery_date"), "2025-07-01", "2025-07-01", True),
        (field(OrderLine, "scheduled_delivery_date"), date(2025, 7, 1), "2025-07-01", True),
        (field(OrderLine, "scheduled_delivery_date"), "2025-07-01", "2025-07-01T00:00:00", True),
        (field(OrderLine, "scheduled_delivery_date"), "2025-07-01", "2025-07-02", False),
        (field(OrderLine, "note"), "deux\r\nlignes", "deux\nlignes ", True),
        (field(OrderLine, "note"), None, "", True),
        (field(OrderLine, "end_customer_name"), "Gérard", "Gerard", False),
        # A phone number is text: a lost leading zero is a difference.
        (field(LineContact, "contact1_phone_number"), "0123456789", "123456789", False),
    ],
)
def test_values_are_normalised_by_the_fields_type(model_field, portal, covage, same):
    assert same_value(model_field, portal, covage) is same


# --- Files written here -----------------------------------------------------------------------


@pytest.fixture
def linked(sales: Any) -> OrderLine:
    """A session and a line the portal sent to Covage an hour ago."""
    an_hour_ago = timezone.now() - timedelta(hours=1)
    session = OrderSession.objects.create(
        owner=sales,
        external_id="CP-RULES-1",
        project_id="PRJ-2024-001",
        covage_id="S-1",
        remote_state="created",
        creation_date=an_hour_ago,
    )
    line = OrderLine.objects.create(
        session=session,
        covage_id="L-1",
        remote_state="created",
        external_id="CP-RULES-1-L1",
        product_offering_id="2173",
        offer_family="BPE",
        offer_technology="FIBDE",
        option_ids=["7021"],
        vlan_reference=1257,
        siret_known=None,
        end_customer_name="Crêperie Bréhat",
        note="deux\r\nlignes",
        version=3,
        synced_version=3,
        sync_status=SyncStatus.SYNCED,
        last_synced_at=an_hour_ago,
    )
    LineContact.objects.create(
        line=line, city="Paimpol", postcode="22500", latitude=48.78, longitude=-3.04
    )
    return line


def covage_row(line: OrderLine, **changes: str) -> dict[str, str]:
    """The export's row for ``line`` as Covage would hold what the portal sent, with
    ``changes`` (export column names) applied."""
    session = line.session
    wire = line_payload(line, session).to_wire()
    contact = (wire.pop("related_contact_information") or [{}])[0]
    row = {name: "" for name in HEADER}
    row.update(
        product_order_id=session.covage_id,
        product_order_external_id=session.external_id,
        product_order_project_id=session.project_id,
        product_order_state=session.remote_state,
    )
    for name, value in wire.items():
        row[name] = as_text(value)
    row["siret_known"] = "false"  # Covage's empty boolean
    row.update(id=line.covage_id, state=line.remote_state)
    for name, value in contact.items():
        row[f"contact_{name}"] = as_text(value)
    return {**row, **changes}


def stored_export(
    rows: list[dict[str, str]], *, started_at: datetime, delimiter: str = ";"
) -> ExportJob:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    job = ExportJob.objects.create(
        covage_account="demo",
        status=ExportJob.Status.SUCCEEDED,
        started_at=started_at,
        finished_at=started_at + timedelta(minutes=1),
    )
    job.file.save(f"rules-{job.pk}.csv", ContentFile(buffer.getvalue().encode("utf-8-sig")))
    return job


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_row_holding_what_the_portal_sent_matches(linked):
    job = stored_export([covage_row(linked)], started_at=timezone.now(), delimiter=",")
    summary = services.reconcile_export(job_id=job.pk)
    assert summary.status == "done" and summary.rows == 1
    assert Difference.objects.count() == 0


def test_an_export_older_than_one_compared_is_not_compared(linked):
    now = timezone.now()
    newer = stored_export([covage_row(linked, note="Newer")], started_at=now)
    older = stored_export(
        [covage_row(linked, note="Older", business_code="OLD")],
        started_at=now - timedelta(minutes=10),
    )
    services.reconcile_export(job_id=newer.pk)
    [note] = Difference.objects.all()

    summary = services.reconcile_export(job_id=older.pk)

    assert summary.status == Comparison.Status.SUPERSEDED
    assert Comparison.objects.get(export_job=older).status == Comparison.Status.SUPERSEDED
    note.refresh_from_db()
    assert note.status == Status.OPEN
    assert note.covage_value == "Newer" and note.export_job == newer
    assert list(Difference.objects.all()) == [note]

    services.reconcile_export(
        job_id=stored_export([covage_row(linked)], started_at=now + timedelta(minutes=5)).pk
    )
    note.refresh_from_db()
    assert note.status == Status.GONE


def test_a_session_value_is_compared_too(linked):
    job = stored_export(
        [covage_row(linked, product_order_project_id="PRJ-OTHER")], started_at=timezone.now()
    )
    services.reconcile_export(job_id=job.pk)
    [project] = Difference.objects.all()
    assert project.field == "product_order_project_id"
    assert project.field_label == "Session: Project"
    assert (project.portal_value, project.covage_value) == ("PRJ-2024-001", "PRJ-OTHER")
    assert project.line is None and project.session == linked.session
    assert not services.can_push_again(project)


def test_an_unreadable_file_is_a_failed_comparison_not_a_crash(linked):
    job = ExportJob.objects.create(
        covage_account="demo", status=ExportJob.Status.SUCCEEDED, started_at=timezone.now()
    )
    job.file.save("broken.csv", ContentFile(b"id;state\r\nx;y\r\n"))

    result = tasks.reconcile_export.run(job.pk)

    assert result["status"] == "failed"
    comparison = Comparison.objects.get(export_job=job)
    assert comparison.status == Comparison.Status.FAILED
    assert "cannot be read" in comparison.error
    assert Difference.objects.count() == 0


def test_a_file_gone_from_storage_is_a_failed_comparison(linked):
    job = stored_export([covage_row(linked)], started_at=timezone.now())
    job.file.storage.delete(job.file.name)

    summary = services.reconcile_export(job_id=job.pk)

    assert summary.status == "failed"
    assert "no longer stored" in Comparison.objects.get(export_job=job).error


def test_a_large_foreign_export_is_compared_in_bounded_memory(settings):
    """Rows are streamed and only the portal's own ids are kept: the memory a comparison
    needs does not grow with the file (here 8 MB of sessions the portal never heard of)."""
    settings.RECONCILIATION_MAX_NEW_PER_KIND = 50
    header = (";".join(HEADER) + "\r\n").encode()
    body = header + b"".join(_padding(len(header), 8 * 1024 * 1024))
    job = ExportJob.objects.create(
        covage_account="demo", status=ExportJob.Status.SUCCEEDED, started_at=timezone.now()
    )
    job.file.save("padded.csv", ContentFile(body))
    del body

    tracemalloc.start()
    try:
        summary = services.reconcile_export(job_id=job.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert summary.rows > 10_000
    assert summary.found["unknown_at_portal"] == summary.rows  # one session per padding row
    assert summary.new["unknown_at_portal"] == 50 and summary.capped
    assert Difference.objects.count() == 50
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
