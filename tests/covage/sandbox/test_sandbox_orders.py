"""Order sessions and lines: documented shapes, validation, both spellings, delete, confirm."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import pytest

pytestmark = [pytest.mark.urls("covage.sandbox.urls"), pytest.mark.django_db]

SESSION_FIELDS = {
    "external_id",
    "project_id",
    "id",
    "creation_date",
    "cancellation_date",
    "completion_date",
    "order_date",
    "state",
}
LINE_FIELDS = {
    "end_customer_name",
    "external_id",
    "option_ids",
    "note",
    "technical_note",
    "product_offering_id",
    "product_offering_qualification_item_id",
    "project_id",
    "quote_item_id",
    "delivery_mode",
    "enni",
    "enni2",
    "vlan_reference",
    "customer_order_name",
    "business_code",
    "billing_site_ref",
    "related_contact_information",
    "siret_known",
    "additional_vlan_reference",
    "specific_request",
    "access_instructions",
    "scheduled_delivery_date",
    "id",
    "product_order_id",
    "cancellation_date",
    "cancellation_reason",
    "completion_date",
    "order_date",
    "state",
    "state_change",
    "termination_error",
    "order_reference",
    "temporary_reference",
    "building_ref",
    "offer_family",
    "offer_technology",
    "cpe_network_number",
    "cpe_serial_number",
}
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$")


def test_create_session_documented_answer(api) -> None:
    response = api.post("/api/v1/product_order", {"external_id": "12345", "project_id": ""})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == SESSION_FIELDS
    assert body["external_id"] == "12345"
    assert body["project_id"] == ""
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert ISO_WITH_OFFSET.match(body["creation_date"])
    assert datetime.fromisoformat(body["creation_date"]).utcoffset() is not None
    assert body["state"] == "created"
    assert body["cancellation_date"] is None
    assert body["completion_date"] is None
    assert body["order_date"] is None


def test_create_session_without_body_and_with_nulls(api) -> None:
    assert api.post("/api/v1/product_order", raw="").status_code == 201
    body = api.post("/api/v1/product_order", {"external_id": None}).json()
    assert body["external_id"] == ""


def test_create_session_refuses_wrong_types_and_bad_json(api) -> None:
    response = api.post("/api/v1/product_order", {"external_id": 12})
    assert response.status_code == 400
    assert response.json() == {"external_id": ["Not a valid string."]}
    response = api.post("/api/v1/product_order", raw="{not json")
    assert response.status_code == 400
    assert "detail" in response.json()
    response = api.post("/api/v1/product_order", raw="[1, 2]")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_get_session_with_and_without_slash(api, line) -> None:
    session = api.new_session(external_id="e1")
    item = api.new_line(session["id"], **line())
    for path in (
        f"/api/v1/product_order/{session['id']}",
        f"/api/v1/product_order/{session['id']}/",
    ):
        body = api.get(path).json()
        assert set(body) == SESSION_FIELDS | {"product_order_item"}
        assert [entry["id"] for entry in body["product_order_item"]] == [item["id"]]
        assert body["product_order_item"][0] == item


def test_get_unknown_session_is_404(api) -> None:
    assert api.get(f"/api/v1/product_order/{uuid.uuid4()}/").status_code == 404
    assert api.get("/api/v1/product_order/not-a-uuid/").status_code == 404


def test_list_sessions_by_external_id(api) -> None:
    first = api.new_session(external_id="local-1")
    api.new_session(external_id="local-2")
    again = api.new_session(external_id="local-1")
    response = api.get("/api/v1/product_order", external_id="local-1")
    assert response.status_code == 200
    body = response.json()
    assert [entry["id"] for entry in body] == [first["id"], again["id"]]
    assert all(entry["product_order_item"] == [] for entry in body)
    assert api.get("/api/v1/product_order/", external_id="nope").json() == []
    assert len(api.get("/api/v1/product_order").json()) == 3


def test_create_line_returns_every_documented_field(api, line) -> None:
    session = api.new_session()
    response = api.post(
        f"/api/v1/product_order/{session['id']}/product_order_item",
        line(
            enni2="CN012346",
            cpe_network_number="",
            additional_vlan_reference="1258",
            specific_request="Demande de raccordement spécifique",
            access_instructions="Prendre la grande porte",
            billing_site_ref="AUX99",
        ),
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == LINE_FIELDS
    assert body["product_order_id"] == session["id"]
    assert body["state"] == "created"
    assert body["vlan_reference"] == 1257
    assert body["enni2"] == "CN012346"
    assert body["specific_request"] == "Demande de raccordement spécifique"
    assert body["siret_known"] is True
    assert body["scheduled_delivery_date"] == "2025-09-21"
    assert body["termination_error"] == []
    assert body["order_reference"] == ""
    assert body["cancellation_reason"] == ""
    assert body["order_date"] is None
    assert re.match(r"^PO_[A-Z]{2}\d{3}_\d{8}_\d{6}$", body["temporary_reference"])
    assert len(body["state_change"]) == 1
    change = body["state_change"][0]
    assert change["state"] == "created" and change["change_reason"] == ""
    assert ISO_WITH_OFFSET.match(change["change_date"])
    contact = body["related_contact_information"][0]
    assert contact["postcode"] == "76130"
    assert contact["latitude"] == pytest.approx(49.4744077)


def test_line_defaults_when_only_required_fields(api) -> None:
    session = api.new_session()
    body = api.new_line(
        session["id"], product_offering_id="2173", product_offering_qualification_item_id="q-1"
    )
    assert body["option_ids"] == []
    assert body["related_contact_information"] == []
    assert body["vlan_reference"] is None
    assert body["enni"] == "" and body["enni2"] == ""
    assert body["cpe_network_number"] == ""


def test_table_spelling_in_and_out(api, line, knobs) -> None:
    session = api.new_session()
    created = api.new_line(
        session["id"], **line(enni_2="CN099999", cpe_networking_number="NET-1", option_ids=[])
    )
    assert created["enni2"] == "CN099999"
    assert created["cpe_network_number"] == "NET-1"
    knobs(SPELLING="tables")
    body = api.session(session["id"])["product_order_item"][0]
    assert body["enni_2"] == "CN099999"
    assert body["cpe_networking_number"] == "NET-1"
    assert "enni2" not in body and "cpe_network_number" not in body


def test_table_spelling_wins_when_both_are_sent(api, line) -> None:
    session = api.new_session()
    body = api.new_line(session["id"], **line(enni_2="TABLE", enni2="EXAMPLE"))
    assert body["enni2"] == "TABLE"


def test_required_fields_on_create(api) -> None:
    session = api.new_session()
    response = api.post(f"/api/v1/product_order/{session['id']}/product_order_item", {})
    assert response.status_code == 400
    assert response.json() == {
        "product_offering_id": ["This field is required."],
        "product_offering_qualification_item_id": ["This field is required."],
    }
    response = api.post(
        f"/api/v1/product_order/{session['id']}/product_order_item",
        {"product_offering_id": None, "product_offering_qualification_item_id": ""},
    )
    assert response.json() == {
        "product_offering_id": ["This field may not be null."],
        "product_offering_qualification_item_id": ["This field may not be blank."],
    }


def test_wrong_types_get_per_field_messages(api, line) -> None:
    session = api.new_session()
    response = api.post(
        f"/api/v1/product_order/{session['id']}/product_order_item",
        line(
            enni=12,
            option_ids="7021",
            siret_known="yes",
            vlan_reference="12a",
            scheduled_delivery_date="21/09/2025",
            related_contact_information=[
                {"postcode": 76130, "latitude": "49.4", "city": "Rouen"},
                {"city": "Évreux"},
                "not a dict",
            ],
        ),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["enni"] == ["Not a valid string."]
    assert body["option_ids"] == ['Expected a list of items but got type "str".']
    assert body["siret_known"] == ["Must be a valid boolean."]
    assert body["vlan_reference"] == ["A valid integer is required."]
    assert body["scheduled_delivery_date"] == [
        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
    ]
    assert body["related_contact_information"] == [
        {"postcode": ["Not a valid string."], "latitude": ["A valid number is required."]},
        {},
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
    ]
    assert "product_offering_id" not in body
    assert api.session(session["id"])["product_order_item"] == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("option_ids", ["7021", 7021], "Not a valid string."),
        (
            "related_contact_information",
            {"city": "Rouen"},
            'Expected a list of items but got type "dict".',
        ),
        ("vlan_reference", True, "A valid integer is required."),
        ("vlan_reference", 12.5, "A valid integer is required."),
        (
            "scheduled_delivery_date",
            "2025-02-30",
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        ),
        ("note", ["a"], "Not a valid string."),
    ],
)
def test_more_wrong_types(api, line, field, value, message) -> None:
    session = api.new_session()
    response = api.post(
        f"/api/v1/product_order/{session['id']}/product_order_item", line(**{field: value})
    )
    assert response.status_code == 400
    assert response.json() == {field: [message]}


def test_vlan_as_number_or_numeric_string(api, line) -> None:
    session = api.new_session()
    assert api.new_line(session["id"], **line(vlan_reference=1234))["vlan_reference"] == 1234
    assert api.new_line(session["id"], **line(vlan_reference="42"))["vlan_reference"] == 42
    assert api.new_line(session["id"], **line(vlan_reference=None))["vlan_reference"] is None


def test_nulls_accepted_for_optional_fields(api, line) -> None:
    session = api.new_session()
    body = api.new_line(
        session["id"],
        **line(
            note=None,
            option_ids=None,
            siret_known=None,
            scheduled_delivery_date=None,
            related_contact_information=[{"latitude": None, "city": None}],
        ),
    )
    assert body["note"] == ""
    assert body["option_ids"] == []
    assert body["siret_known"] is False
    assert body["related_contact_information"][0]["latitude"] is None


def test_patch_line_partial_update(api, line) -> None:
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    for path in (
        f"/api/v1/product_order/{session['id']}/product_order_item/{item['id']}",
        f"/api/v1/product_order/{session['id']}/product_order_item/{item['id']}/",
    ):
        response = api.patch(path, {"note": "étage 2", "enni2": "CN000001", "vlan_reference": "99"})
        assert response.status_code == 200
    body = response.json()
    assert body["note"] == "étage 2"
    assert body["enni2"] == "CN000001"
    assert body["vlan_reference"] == 99
    assert body["product_offering_id"] == "2173"  # untouched
    assert body["related_contact_information"][0]["city"] == "Mont-Saint-Aignan"
    assert api.session(session["id"])["product_order_item"][0]["note"] == "étage 2"


def test_patch_line_validation(api, line) -> None:
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    path = f"/api/v1/product_order/{session['id']}/product_order_item/{item['id']}"
    response = api.patch(path, {"product_offering_id": None, "latitude": 1, "siret_known": 1})
    assert response.status_code == 400
    assert response.json() == {
        "product_offering_id": ["This field may not be null."],
        "latitude": ["Unknown field."],  # a contact's key, not a line's
        "siret_known": ["Must be a valid boolean."],
    }
    response = api.patch(path, {"related_contact_information": [{"insee_code": 76451}, {}]})
    assert response.json() == {
        "related_contact_information": [{"insee_code": ["Not a valid string."]}, {}]
    }


def test_patch_unknown_line_is_404(api, line) -> None:
    session = api.new_session()
    other = api.new_session()
    item = api.new_line(other["id"], **line())
    path = f"/api/v1/product_order/{session['id']}/product_order_item/{item['id']}"
    assert api.patch(path, {"note": "x"}).status_code == 404
    path = f"/api/v1/product_order/{session['id']}/product_order_item/{uuid.uuid4()}"
    assert api.patch(path, {"note": "x"}).status_code == 404


def test_delete_line_on_documented_path_only(api, line) -> None:
    session = api.new_session(external_id="444555666777")
    first = api.new_line(session["id"], **line())
    second = api.new_line(session["id"], **line())
    v1 = f"/api/v1/product_order/{session['id']}/product_order_item/{first['id']}"
    assert api.delete(v1).status_code == 405
    assert api.delete(v1 + "/").status_code == 405
    response = api.delete(f"/api/product_order/{session['id']}/product_order_item/{first['id']}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"external_id", "project_id", "id", "product_order_item"}
    assert body["external_id"] == "444555666777"
    assert [entry["id"] for entry in body["product_order_item"]] == [second["id"]]
    response = api.delete(f"/api/product_order/{session['id']}/product_order_item/{second['id']}")
    assert response.status_code == 200
    assert response.json()["product_order_item"] == []
    again = api.delete(f"/api/product_order/{session['id']}/product_order_item/{second['id']}")
    assert again.status_code == 404


def test_confirm_documented_answer(api, line) -> None:
    session = api.new_session(external_id="777888999")
    item = api.new_line(session["id"], **line())
    for path in (
        f"/api/v1/product_order/{session['id']}/confirm",
        f"/api/v1/product_order/{session['id']}/confirm/",
    ):
        response = api.patch(path)
        if response.status_code == 200:
            break
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"external_id", "project_id", "id", "product_order_item"}
    assert body["id"] == session["id"]
    (confirmed,) = body["product_order_item"]
    assert confirmed["id"] == item["id"]
    assert confirmed["state"] == "in_progress"
    assert [change["state"] for change in confirmed["state_change"]] == ["created", "in_progress"]


def test_confirm_twice_and_empty_are_refused(api, line, knobs) -> None:
    knobs(CONFIRM_DELAY=3600)
    empty = api.new_session()
    response = api.confirm(empty["id"])
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
    assert api.session(empty["id"])["state"] == "created"

    session = api.new_session()
    api.new_line(session["id"], **line())
    assert api.confirm(session["id"]).status_code == 200
    fetched = api.session(session["id"])
    assert fetched["state"] == "in_progress"
    assert fetched["order_date"] is not None
    second = api.confirm(session["id"])
    assert second.status_code == 400
    assert "in_progress" in second.json()["detail"]


def test_lines_cannot_change_after_confirm(api, line, knobs) -> None:
    knobs(CONFIRM_DELAY=3600)
    session = api.new_session()
    item = api.new_line(session["id"], **line())
    api.confirm(session["id"])
    sid, iid = session["id"], item["id"]
    created = api.post(f"/api/v1/product_order/{sid}/product_order_item", line())
    patched = api.patch(f"/api/v1/product_order/{sid}/product_order_item/{iid}", {"note": "x"})
    deleted = api.delete(f"/api/product_order/{sid}/product_order_item/{iid}/")
    for response in (created, patched, deleted):
        assert response.status_code == 400
        assert set(response.json()) == {"detail"}
    assert len(api.session(sid)["product_order_item"]) == 1


def test_wrong_method_is_405(api) -> None:
    response = api.delete("/api/v1/product_order")
    assert response.status_code == 405
    assert response.json()["detail"]
