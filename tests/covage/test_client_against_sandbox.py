"""The client against the sandbox over real HTTP: two readings of the documents must agree."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from covage.client import get_client
from covage.errors import (
    CovageAuthenticationError,
    CovageNotFound,
    CovageRateLimited,
    CovageUnavailable,
    CovageValidationError,
)
from covage.sandbox.models import SandboxCall
from covage.schemas import ContactInformation, LinePayload

pytestmark = pytest.mark.django_db(transaction=True)


def full_contact(**overrides: object) -> ContactInformation:
    values: dict[str, object] = {
        "end_customer_name": "Crêperie Léonie",
        "siret": "73282932000074",
        "contact1_firstname": "Léonie",
        "contact1_lastname": "Kerguélen",
        "contact1_email_address": "leonie@example.fr",
        "contact1_phone_number": "0298765432",
        "street_number": "12",
        "street_name": "Rue de l'Église",
        "postcode": "29200",
        "city": "Brest",
        "insee_code": "29019",
        "latitude": 48.39,
        "longitude": -4.48,
    }
    values.update(overrides)
    return ContactInformation(**values)  # type: ignore[arg-type]


def good_line(external_id: str, **overrides: object) -> LinePayload:
    values: dict[str, object] = {
        "product_offering_id": "2173",
        "product_offering_qualification_item_id": "d5a4a9aa-ba2c-4f53-95c7-0c1ce6f6e7fa",
        "external_id": external_id,
        "offer_family": "BPE",
        "enni": "CN012345",
        "enni_2": "CN012346",
        "vlan_reference": 1257,
        "siret_known": True,
        "related_contact_information": [full_contact()],
    }
    values.update(overrides)
    return LinePayload(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("spelling", ["examples", "tables"])
def test_whole_sequence(sandbox_url, settings, spelling):
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "SPELLING": spelling}
    client = get_client()

    session = client.create_session(external_id="CP-TEST-1", project_id="PRJ-001")
    assert session.state == "created" and session.id

    line = client.create_line(session.id, good_line("L1"))
    assert line.state == "created" and line.temporary_reference
    # Whatever spelling the sandbox answers with, the client reads it.
    assert line.enni_2 == "CN012346"
    assert line.related_contact_information[0].street_name == "Rue de l'Église"

    line = client.update_line(
        session.id,
        line.id,
        good_line("L1", customer_order_name="Réf. été"),
        fields={"customer_order_name"},
    )
    assert line.customer_order_name == "Réf. été"

    cpe = client.create_line(
        session.id,
        good_line(
            "L2", option_ids=["7021"], cpe_networking_number="NET-1", cpe_serial_number="SR-1"
        ),
    )
    assert cpe.cpe_networking_number == "NET-1"

    spare = client.create_line(session.id, good_line("L3"))
    remaining = client.delete_line(session.id, spare.id)
    assert {item.id for item in remaining.items} == {line.id, cpe.id}

    bad = client.create_line(
        session.id, good_line("L4", enni="", option_ids=["7021"], related_contact_information=[])
    )

    confirmed = client.confirm_session(session.id)
    assert {item.state for item in confirmed.items} == {"in_progress"}

    final = client.get_session(session.id)  # CONFIRM_DELAY is 0 in tests
    assert final.state == "partial"
    by_id = {item.id: item for item in final.items}
    assert by_id[line.id].order_reference
    rejected = by_id[bad.id]
    assert rejected.state == "rejected_creation"
    paths = {error.property_path for error in rejected.termination_error}
    assert "enni" in paths
    assert any(path.startswith("related_contact_information") for path in paths)
    assert any(path.startswith("cpe_") for path in paths)
    assert [change.state for change in by_id[line.id].state_change][:2] == [
        "created",
        "in_progress",
    ]

    assert [s.id for s in client.find_sessions(external_id="CP-TEST-1")] == [session.id]

    order = client.get_order(by_id[line.id].order_reference)
    assert order.order_reference == by_id[line.id].order_reference
    assert isinstance(client.get_order_historic(order.order_reference), list)
    assert order.order_reference in {o.order_reference for o in client.list_orders()}


def test_confirm_twice_and_bad_payload_are_typed_errors(sandbox_url):
    client = get_client()
    session = client.create_session(external_id="CP-TEST-2")
    with pytest.raises(CovageValidationError):
        client.confirm_session(session.id)  # empty session
    with pytest.raises(CovageValidationError) as exc:
        client.create_line(session.id, LinePayload())
    assert "product_offering_id" in exc.value.field_errors
    client.create_line(session.id, good_line("L1"))
    client.confirm_session(session.id)
    with pytest.raises(CovageValidationError):
        client.confirm_session(session.id)
    confirms = SandboxCall.objects.filter(method="PATCH", path__endswith="/confirm/")
    assert list(confirms.values_list("status", flat=True)) == [400, 200, 400]


def test_export_rate_limit_and_download(sandbox_url, tmp_path):
    client = get_client()
    session = client.create_session(external_id="CP-ÉTÉ")
    client.create_line(session.id, good_line("L1"))
    task_id = client.start_export()
    with pytest.raises(CovageRateLimited) as exc:
        client.start_export()
    assert 0 < exc.value.retry_after <= 300
    assert client.export_status(task_id).success is True
    size = client.download_export(task_id, tmp_path / "export.csv")
    text = (tmp_path / "export.csv").read_text(encoding="utf-8")
    assert size == (tmp_path / "export.csv").stat().st_size
    assert "CP-ÉTÉ" in text and "Crêperie Léonie" in text
    with pytest.raises(CovageNotFound):
        client.export_status("00000000-0000-0000-0000-000000000000")


def test_referentials(sandbox_url):
    client = get_client()
    projects = client.list_projects()
    assert projects and all(project.code for project in projects)
    assert all(project.active for project in client.list_projects(active=True))
    ennis = client.list_ennis(offer="BPEA")
    assert ennis and {enni.offer for enni in ennis} == {"BPEA"}


def test_wrong_credentials_and_isolation(sandbox_url, settings):
    settings.COVAGE_PASSWORD = "wrong"
    with pytest.raises(CovageAuthenticationError):
        get_client().list_projects()
    settings.COVAGE_PASSWORD = "demo"
    mine = get_client().create_session(external_id="CP-MINE")
    settings.COVAGE_USERNAME = settings.COVAGE_PASSWORD = "other"
    with pytest.raises(CovageNotFound):
        get_client().get_session(mine.id)


def test_retries_through_sandbox_faults(sandbox_url, settings):
    settings.COVAGE_MAX_RETRIES = 6
    settings.COVAGE_BACKOFF_BASE = 0.01
    settings.COVAGE_SANDBOX = {
        **settings.COVAGE_SANDBOX,
        "ERROR_RATE": 0.5,
        "RATE_LIMIT_RATE": 0.2,
        "RATE_LIMIT_RETRY_AFTER": 0,
        "SEED": "retries",
    }
    for _ in range(5):
        assert get_client().list_projects()
    statuses = set(
        SandboxCall.objects.filter(path__startswith="/api/").values_list("status", flat=True)
    )
    assert statuses & {502, 503} and 200 in statuses


def test_timeout_on_post_is_ambiguous_and_session_is_found_again(
    sandbox_url, settings, settled_sandbox_calls
):
    settings.COVAGE_READ_TIMEOUT = 0.5
    settings.COVAGE_SANDBOX = {
        **settings.COVAGE_SANDBOX,
        "TIMEOUT_RATE": 1.0,
        "TIMEOUT_SECONDS": 1.0,
    }
    with pytest.raises(CovageUnavailable) as exc:
        get_client().create_session(external_id="CP-AMBIGUOUS")
    assert exc.value.ambiguous
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "TIMEOUT_RATE": 0.0}
    # The write happened although the answer never came: the session can be found again.
    found = get_client().find_sessions(external_id="CP-AMBIGUOUS")
    assert len(found) == 1
    posts = SandboxCall.objects.filter(method="POST", path="/api/v1/product_order")
    assert settled_sandbox_calls(posts, 1) == 1


def test_covage_check_against_sandbox(sandbox_url, settings):
    out = io.StringIO()
    call_command("covage_check", stdout=out)
    text = out.getvalue()
    assert "OK token" in text and "OK API" in text
    settings.COVAGE_PASSWORD = "wrong"
    with pytest.raises(BaseException):  # noqa: B017 - CommandError or SystemExit
        call_command("covage_check", stdout=io.StringIO(), stderr=io.StringIO())
