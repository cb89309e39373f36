"""The sandbox is as strict as the documents.

A body field that the endpoint's request table does not list is refused with 400 and
`{"<field>": ["Unknown field."]}`; the reads the documents do not describe sit behind the knob
UNDOCUMENTED (on by default; off: 405 for listing/finding sessions, 404 for reading one back).
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import pytest
from django.http import StreamingHttpResponse

from covage.sandbox import knobs as sandbox_knobs
from covage.sandbox.models import ProductOrder, ProductOrderItem, SandboxCall

pytestmark = [pytest.mark.urls("covage.sandbox.urls"), pytest.mark.django_db]

UNKNOWN = ["Unknown field."]
SESSIONS = "/api/v1/product_order"
EXPORT = "/api/v1/product_order/export/csv/"

# Every field of the documents' request tables, with a value that passes validation.
POST_LINE_TABLE: dict[str, Any] = {
    "end_customer_name": "Covage",
    "external_id": "6789",
    "option_ids": ["2210"],
    "note": "",
    "technical_note": "",
    "product_offering_id": "2173",
    "product_offering_qualification_item_id": "q-1",
    "project_id": "PRJ-2024-001",
    "quote_item_id": "",
    "delivery_mode": "",
    "enni": "CN012345",
    "enni_2": "",
    "vlan_reference": 1257,
    "customer_order_name": "john Doe",
    "business_code": "AB123",
    "billing_site_ref": "AUX99",
    "related_contact_information": [],
    "siret_known": True,
    "additional_vlan_reference": "1258",
    "offer_family": "BPE",
    "offer_technology": "FIBDE",
    "specific_request": "Demande de raccordement spécifique",
    "access_instructions": "Prendre la grande porte",
    "scheduled_delivery_date": "2025-09-21",
    "cpe_networking_number": "",
    "cpe_serial_number": "",
}
PATCH_LINE_TABLE = {
    name: value
    for name, value in POST_LINE_TABLE.items()
    if name not in ("offer_family", "offer_technology")
}


def line_path(session_id: str, item_id: str = "") -> str:
    path = f"/api/v1/product_order/{session_id}/product_order_item"
    return f"{path}/{item_id}" if item_id else path


def delete_path(session_id: str, item_id: str) -> str:
    return f"/api/product_order/{session_id}/product_order_item/{item_id}/"


def assert_unknown(response, *names: str) -> None:
    assert response.status_code == 400, response.content
    assert response.json() == dict.fromkeys(names, UNKNOWN)


def test_tables_have_the_documented_sizes() -> None:
    assert len(POST_LINE_TABLE) == 26
    assert len(PATCH_LINE_TABLE) == 24


# --- POST /api/v1/product_order ---------------------------------------------------------------


def test_session_post_refuses_unknown_fields(api) -> None:
    response = api.post(SESSIONS, {"external_id": "e1", "state": "completed", "color": "blue"})
    assert_unknown(response, "state", "color")
    assert not ProductOrder.objects.exists()


def test_session_post_lists_unknown_beside_other_errors(api) -> None:
    response = api.post(SESSIONS, {"external_id": 12, "id": "mine"})
    assert response.status_code == 400
    assert response.json() == {"external_id": ["Not a valid string."], "id": UNKNOWN}


def test_session_post_takes_its_table(api) -> None:
    body = api.new_session(external_id="e1", project_id="PRJ-1")
    assert (body["external_id"], body["project_id"]) == ("e1", "PRJ-1")
    assert api.post(SESSIONS, {}).status_code == 201


# --- POST .../product_order_item --------------------------------------------------------------


def test_line_post_takes_every_field_of_its_table(api) -> None:
    session = api.new_session()
    response = api.post(line_path(session["id"]), POST_LINE_TABLE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["offer_family"] == "BPE"
    assert body["offer_technology"] == "FIBDE"
    assert body["access_instructions"] == "Prendre la grande porte"


def test_line_post_refuses_unknown_fields(api, line) -> None:
    session = api.new_session()
    response = api.post(
        line_path(session["id"]),
        line(color="blue", state="acknowledged", order_reference="CMD_X_1", latitude=1.0),
    )
    assert_unknown(response, "color", "state", "order_reference", "latitude")
    assert not ProductOrderItem.objects.exists()


def test_line_post_lists_unknown_beside_other_errors(api, line) -> None:
    session = api.new_session()
    response = api.post(line_path(session["id"]), {"colour": "red", "enni": 12})
    assert response.status_code == 400
    assert response.json() == {
        "colour": UNKNOWN,
        "enni": ["Not a valid string."],
        "product_offering_id": ["This field is required."],
        "product_offering_qualification_item_id": ["This field is required."],
    }


# --- PATCH .../product_order_item/{item_id} ---------------------------------------------------


def test_line_patch_takes_every_field_of_its_table(api, line) -> None:
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    response = api.patch(line_path(session["id"], item["id"]), PATCH_LINE_TABLE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["business_code"] == "AB123"
    assert body["offer_family"] == "BPE"  # from the POST, untouched


@pytest.mark.parametrize(
    "fields",
    [
        {"offer_family": "DIA"},
        {"offer_technology": "FIBDE"},
        {"offer_family": "BPE", "offer_technology": "FIBDE"},
    ],
)
def test_line_patch_refuses_offer_family_and_technology(api, line, fields) -> None:
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    response = api.patch(line_path(session["id"], item["id"]), {"note": "étage 2", **fields})
    assert_unknown(response, *fields)
    stored = ProductOrderItem.objects.get(uid=item["id"]).data
    assert stored["note"] == ""  # nothing of a refused PATCH is applied
    assert stored["offer_family"] == "BPE"


def test_line_patch_refuses_unknown_fields(api, line) -> None:
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    response = api.patch(
        line_path(session["id"], item["id"]), {"state": "cancelled", "city": "Rouen", "note": "x"}
    )
    assert_unknown(response, "state", "city")


def test_line_patch_lists_unknown_beside_other_errors(api, line) -> None:
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    response = api.patch(
        line_path(session["id"], item["id"]), {"offer_family": "BPE", "siret_known": "yes"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "offer_family": UNKNOWN,
        "siret_known": ["Must be a valid boolean."],
    }


# --- Both spellings of the documents ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ("enni_2", "enni2"),
        ("enni2", "enni2"),
        ("cpe_networking_number", "cpe_network_number"),
        ("cpe_network_number", "cpe_network_number"),
    ],
)
def test_both_spellings_accepted_on_post_and_patch(api, line, sent, answered) -> None:
    session = api.new_session()
    created = api.new_line(session["id"], **line(**{sent: "ON-POST"}))
    assert created[answered] == "ON-POST"
    response = api.patch(line_path(session["id"], created["id"]), {sent: "ON-PATCH"})
    assert response.status_code == 200, response.content
    assert response.json()[answered] == "ON-PATCH"


# --- related_contact_information entries -------------------------------------------------------


def test_unknown_contact_keys_refused_per_entry_on_post(api, line, contact_info) -> None:
    session = api.new_session()
    response = api.post(
        line_path(session["id"]),
        line(
            related_contact_information=[
                contact_info(email="john@example.com"),
                contact_info(),
                {"city": "Rouen", "siret_known": True, "postcode": 76000},
            ]
        ),
    )
    assert response.status_code == 400
    assert response.json() == {
        "related_contact_information": [
            {"email": UNKNOWN},
            {},
            {"siret_known": UNKNOWN, "postcode": ["Not a valid string."]},
        ]
    }
    assert not ProductOrderItem.objects.exists()


def test_unknown_contact_keys_refused_on_patch(api, line, contact_info) -> None:
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    response = api.patch(
        line_path(session["id"], item["id"]),
        {"related_contact_information": [contact_info(address="4 rue Sakharov")]},
    )
    assert response.status_code == 400
    assert response.json() == {"related_contact_information": [{"address": UNKNOWN}]}


def test_every_key_of_the_contact_table_is_taken(api, line, contact_info) -> None:
    session = api.new_session()
    body = api.new_line(session["id"], **line(related_contact_information=[contact_info()]))
    assert body["related_contact_information"] == [contact_info()]


# --- Endpoints without request fields -----------------------------------------------------------


def test_confirm_refuses_any_field(api, line) -> None:
    session = api.new_session()
    api.new_line(session["id"], **line())
    path = f"/api/v1/product_order/{session['id']}/confirm/"
    assert_unknown(api.patch(path, {"force": True, "state": "in_progress"}), "force", "state")
    assert ProductOrder.objects.get(uid=session["id"]).state == "created"
    bad_json = api.client.patch(path, "{nope", content_type="application/json", **api._headers())
    assert bad_json.status_code == 400
    assert api.patch(path, {}).status_code == 200


def test_confirm_without_body(api, line) -> None:
    session = api.new_session()
    api.new_line(session["id"], **line())
    response = api.client.patch(f"/api/v1/product_order/{session['id']}/confirm/", **api._headers())
    assert response.status_code == 200, response.content


def test_export_refuses_any_field_without_using_the_window(api) -> None:
    assert_unknown(api.post(EXPORT, {"format": "csv"}), "format")
    assert api.post(EXPORT, {}).status_code == 201


def test_export_without_body(api) -> None:
    assert api.post(EXPORT, raw="").status_code == 201


def test_delete_refuses_fields_beyond_its_table(api, line) -> None:
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    path = delete_path(session["id"], item["id"])
    response = api.client.delete(
        path, json.dumps({"reason": "typo"}), content_type="application/json", **api._headers()
    )
    assert_unknown(response, "reason")
    assert ProductOrderItem.objects.filter(uid=item["id"]).exists()
    response = api.client.delete(
        path,
        json.dumps({"product_order_id": session["id"], "item_id": item["id"]}),
        content_type="application/json",
        **api._headers(),
    )
    assert response.status_code == 200, response.content
    assert not ProductOrderItem.objects.exists()


# --- Knob UNDOCUMENTED --------------------------------------------------------------------------


def test_undocumented_reads_on_by_default(api, settings) -> None:
    assert sandbox_knobs.DEFAULTS["UNDOCUMENTED"] == "on"
    import portal.settings as portal_settings

    expected = os.environ.get("COVAGE_SANDBOX_UNDOCUMENTED", "on")
    assert portal_settings.COVAGE_SANDBOX["UNDOCUMENTED"] == expected
    settings.COVAGE_SANDBOX = {
        name: value for name, value in settings.COVAGE_SANDBOX.items() if name != "UNDOCUMENTED"
    }
    session = api.new_session(external_id="e1")
    assert api.get(SESSIONS, external_id="e1").status_code == 200
    assert api.get(f"{SESSIONS}/{session['id']}/").status_code == 200


@pytest.mark.parametrize("value", ["on", "yes", "1", "true", True])
def test_undocumented_reads_served_when_on(api, knobs, value) -> None:
    knobs(UNDOCUMENTED=value)
    session = api.new_session(external_id="e1")
    listed = api.get(SESSIONS, external_id="e1")
    assert listed.status_code == 200
    assert [entry["id"] for entry in listed.json()] == [session["id"]]
    assert api.get(f"{SESSIONS}/{session['id']}/").json()["id"] == session["id"]


@pytest.mark.parametrize("value", ["off", "OFF", "false", "False", "0", "no", " No ", False, 0])
def test_undocumented_reads_absent_when_off(api, knobs, value) -> None:
    knobs(UNDOCUMENTED=value)
    session = api.new_session(external_id="e1")
    for path, query in (
        (SESSIONS, {}),
        (SESSIONS + "/", {}),
        (SESSIONS, {"external_id": "e1"}),
    ):
        response = api.get(path, **query)
        assert response.status_code == 405, (path, query)
        assert response["Allow"] == "POST"
        assert response.json() == {"detail": 'Method "GET" not allowed.'}
    for path in (f"{SESSIONS}/{session['id']}", f"{SESSIONS}/{session['id']}/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found."}
    # The path serves nothing else: any method finds nothing there.
    assert api.post(f"{SESSIONS}/{session['id']}/", {}).status_code == 404


def test_undocumented_off_calls_are_recorded(api, knobs) -> None:
    knobs(UNDOCUMENTED="off")
    session = api.new_session()
    SandboxCall.objects.all().delete()
    api.get(SESSIONS, external_id="x")
    api.get(f"{SESSIONS}/{session['id']}/")
    calls = list(SandboxCall.objects.order_by("pk"))
    assert [(call.method, call.path, call.status, call.account) for call in calls] == [
        ("GET", SESSIONS, 405, "demo"),
        ("GET", f"{SESSIONS}/{session['id']}/", 404, "demo"),
    ]


def test_undocumented_off_still_needs_a_token(client, knobs) -> None:
    knobs(UNDOCUMENTED="off")
    assert client.get(SESSIONS).status_code == 401


def test_documented_flow_works_with_undocumented_off(api, knobs, line) -> None:
    knobs(UNDOCUMENTED="off")
    session = api.new_session(external_id="local-42")
    sid = session["id"]
    first = api.new_line(sid, **line())
    second = api.new_line(sid, **line(external_id="second"))
    patched = api.patch(line_path(sid, first["id"]), {"note": "étage 2", "enni2": "CN000001"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["note"] == "étage 2"
    deleted = api.delete(delete_path(sid, second["id"]))
    assert deleted.status_code == 200, deleted.content
    assert [entry["id"] for entry in deleted.json()["product_order_item"]] == [first["id"]]
    confirmed = api.confirm(sid)
    assert confirmed.status_code == 200, confirmed.content
    assert [entry["state"] for entry in confirmed.json()["product_order_item"]] == ["in_progress"]

    # The documented record of everything: the CSV export.
    started = api.post(EXPORT)
    assert started.status_code == 201, started.content
    task_id = started.json()["task_id"]
    status = api.get(f"/api/v1/product_order/export/{task_id}/status/")
    assert status.status_code == 200 and status.json()["success"] is True
    download = api.get(f"/api/v1/product_order/export/{task_id}/download/")
    assert download.status_code == 200
    assert isinstance(download, StreamingHttpResponse)
    text = b"".join(download.streaming_content).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [(row["product_order_external_id"], row["id"]) for row in rows] == [
        ("local-42", first["id"])
    ]
    # Resolved (CONFIRM_DELAY is 0 in tests): the clean line became an order.
    assert rows[0]["product_order_state"] == "completed"
    assert rows[0]["order_reference"].startswith("CMD_X_")
    assert rows[0]["note"] == "étage 2"


def test_about_page_shows_the_knob(client, knobs) -> None:
    knobs(UNDOCUMENTED="off")
    assert client.get("/sandbox/about/").json()["knobs"]["UNDOCUMENTED"] == "off"
