"""Wire payloads: both spellings, lenient dates and VLANs, request names from the tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from covage.schemas import (
    LINE_CREATE_FIELDS,
    LINE_UPDATE_FIELDS,
    LINE_WIRE_FIELDS,
    OFFER_FIELDS,
    SESSION_FINAL_STATES,
    WIRE_ALIASES,
    ContactInformation,
    Enni,
    ExportStatus,
    HistoricStep,
    LinePayload,
    OrderLine,
    OrderSession,
    Project,
    TrackedOrder,
    parse_datetime,
    parse_vlan,
)

CONTACT = {
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
}

# The "Creating an Order Line" response example, verbatim (examples' spellings).
LINE_EXAMPLE: dict[str, Any] = {
    "end_customer_name": "Covage",
    "external_id": "",
    "option_ids": [],
    "note": "",
    "technical_note": "",
    "product_offering_id": "2173",
    "product_offering_qualification_item_id": "d5a4a9aa-ba2c-4f53-95c7-0c1ce6f6e7fa",
    "project_id": "",
    "quote_item_id": "",
    "delivery_mode": "",
    "enni": "",
    "enni2": "ENNI-2",
    "vlan_reference": 1257,
    "customer_order_name": "john Doe",
    "business_code": "",
    "billing_site_ref": "AUX00",
    "related_contact_information": [CONTACT],
    "id": "259a1c5b-8462-4c5e-90d0-90d135763378",
    "product_order_id": "908d2cc0-4bdc-4f62-b812-f8c1f48c96cd",
    "cancellation_date": None,
    "cancellation_reason": "",
    "completion_date": None,
    "order_date": None,
    "state": "created",
    "state_change": [
        {"change_reason": "", "change_date": "2025-04-23T10:13:08.733+02:00", "state": "created"}
    ],
    "termination_error": [{"code": "E42", "property_path": "enni", "value": "AZ0"}],
    "order_reference": "",
    "temporary_reference": "PO_DC173_20250423_003363",
    "building_ref": "",
    "offer_family": "BPE",
    "offer_technology": "FIBDE",
    "cpe_network_number": "NET-123456",
    "cpe_serial_number": "SR-123456",
}


def test_order_line_reads_the_examples_spellings_and_keeps_raw() -> None:
    line = OrderLine.from_wire(LINE_EXAMPLE)
    assert line.id == "259a1c5b-8462-4c5e-90d0-90d135763378"
    assert line.product_order_id == "908d2cc0-4bdc-4f62-b812-f8c1f48c96cd"
    assert line.enni_2 == "ENNI-2"
    assert line.cpe_networking_number == "NET-123456"
    assert line.cpe_serial_number == "SR-123456"
    assert line.vlan_reference == 1257
    assert line.state == "created"
    assert line.temporary_reference == "PO_DC173_20250423_003363"
    assert line.billing_site_ref == "AUX00"
    assert line.offer_family == "BPE"
    assert line.completion_date is None and line.order_date is None
    assert line.cancellation_date is None
    assert line.raw is LINE_EXAMPLE
    assert line.state_change[0].state == "created"
    assert line.state_change[0].change_date == datetime(
        2025, 4, 23, 10, 13, 8, 733000, tzinfo=timezone(timedelta(hours=2))
    )
    error = line.termination_error[0]
    assert (error.code, error.property_path, error.value) == ("E42", "enni", "AZ0")
    contact = line.related_contact_information[0]
    assert contact.postcode == "76130"
    assert contact.latitude == pytest.approx(49.4744077)


def test_order_line_reads_the_tables_spellings() -> None:
    data = {"id": "L1", "state": "acknowledged", "enni_2": "E2", "cpe_networking_number": "N1"}
    line = OrderLine.from_wire(data)
    assert (line.enni_2, line.cpe_networking_number) == ("E2", "N1")
    # Missing fields are empty, not errors.
    assert line.related_contact_information == []
    assert line.state_change == []
    assert line.vlan_reference is None


def test_table_spelling_wins_when_both_are_present_and_set() -> None:
    line = OrderLine.from_wire({"id": "L", "state": "x", "enni_2": "", "enni2": "OLD"})
    assert line.enni_2 == "OLD"
    line = OrderLine.from_wire({"id": "L", "state": "x", "enni_2": "NEW", "enni2": "OLD"})
    assert line.enni_2 == "NEW"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1257, 1257), ("1257", 1257), (" 42 ", 42), ("", None), (None, None), ("abc", None)],
)
def test_vlan_number_string_or_empty(value: Any, expected: int | None) -> None:
    assert parse_vlan(value) == expected
    assert OrderLine.from_wire(
        {"id": "L", "state": "s", "vlan_reference": value}
    ).vlan_reference == (expected)


def test_dates_with_offsets_z_bare_dates_and_garbage() -> None:
    assert parse_datetime("2025-04-10T12:11:57.548+02:00") == datetime(
        2025, 4, 10, 10, 11, 57, 548000, tzinfo=UTC
    )
    assert parse_datetime("2025-07-08T10:30:00Z") == datetime(2025, 7, 8, 10, 30, tzinfo=UTC)
    assert parse_datetime("2025-07-08") == datetime(2025, 7, 8, tzinfo=UTC)
    assert parse_datetime(None) is None
    assert parse_datetime("") is None
    assert parse_datetime("not a date") is None


def test_session_from_the_creation_example() -> None:
    data = {
        "external_id": "12345",
        "project_id": "",
        "id": "0b10ba8a-3c31-44ba-a758-d178ec0bb166",
        "creation_date": "2025-04-10T12:11:57.548+02:00",
        "cancellation_date": None,
        "completion_date": None,
        "order_date": None,
        "state": "created",
    }
    session = OrderSession.from_wire(data)
    assert session.id == "0b10ba8a-3c31-44ba-a758-d178ec0bb166"
    assert session.external_id == "12345"
    assert session.state == "created"
    assert session.creation_date is not None and session.creation_date.utcoffset() == timedelta(
        hours=2
    )
    assert session.completion_date is None
    assert session.items == []
    assert not session.is_final


def test_session_from_the_confirm_answer_has_items_and_no_state() -> None:
    line = dict(LINE_EXAMPLE, state="in_progress")
    session = OrderSession.from_wire(
        {"external_id": "777", "project_id": "", "id": "S", "product_order_item": [line]}
    )
    assert session.state == ""
    assert [item.state for item in session.items] == ["in_progress"]
    assert session.items[0].raw is line


def test_unknown_states_stay_open_strings() -> None:
    session = OrderSession.from_wire({"id": "S", "state": "some_new_state"})
    assert session.state == "some_new_state"
    assert {"completed", "partial", "rejected"} == SESSION_FINAL_STATES
    assert OrderSession.from_wire({"id": "S", "state": "partial"}).is_final


def test_from_wire_refuses_non_objects() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        OrderSession.from_wire(["not", "a", "dict"])  # type: ignore[arg-type]


def test_line_payload_sends_the_tables_names_and_types() -> None:
    payload = LinePayload(
        product_offering_id="2173",
        product_offering_qualification_item_id="elig-1",
        enni="AZ001234",
        enni_2="AZ009999",
        vlan_reference=1257,
        scheduled_delivery_date=date(2025, 9, 21),
        cpe_networking_number="NET-1",
        cpe_serial_number="SR-1",
        siret_known=True,
        option_ids=["7021"],
        related_contact_information=[ContactInformation.from_wire(CONTACT)],
    )
    wire = payload.to_wire()
    assert wire["enni_2"] == "AZ009999" and "enni2" not in wire
    assert wire["cpe_networking_number"] == "NET-1" and "cpe_network_number" not in wire
    assert wire["vlan_reference"] == 1257
    assert wire["scheduled_delivery_date"] == "2025-09-21"
    assert wire["siret_known"] is True
    assert wire["option_ids"] == ["7021"]
    assert wire["related_contact_information"] == [CONTACT]
    assert len(wire) == 26
    assert set(wire) == LinePayload.field_names()


def test_line_payload_leaves_out_unset_optional_values() -> None:
    wire = LinePayload(
        product_offering_id="1", product_offering_qualification_item_id="2"
    ).to_wire()
    assert "vlan_reference" not in wire
    assert "scheduled_delivery_date" not in wire
    assert "siret_known" not in wire
    assert wire["enni"] == ""


def test_line_payload_only_sends_the_chosen_fields_and_nulls_to_clear() -> None:
    payload = LinePayload(note="hello", vlan_reference=None, enni="E")
    assert payload.to_wire(only={"note", "vlan_reference"}) == {
        "note": "hello",
        "vlan_reference": None,
    }
    with pytest.raises(ValueError, match="enni2"):
        payload.to_wire(only={"enni2"})


def test_contact_without_coordinates_omits_them() -> None:
    wire = ContactInformation(city="Paris").to_wire()
    assert "latitude" not in wire and "longitude" not in wire
    assert wire["city"] == "Paris"
    assert len(wire) == 18


def test_export_status_success_null_true_false() -> None:
    running = ExportStatus.from_wire({"task_id": "T", "success": None, "started": None})
    assert running.success is None and not running.finished
    done = ExportStatus.from_wire(
        {
            "task_id": "T",
            "success": True,
            "started": "2025-07-08T10:30:00Z",
            "stopped": "2025-07-08T10:31:00Z",
        }
    )
    assert done.success is True and done.finished
    assert done.stopped == datetime(2025, 7, 8, 10, 31, tzinfo=UTC)
    assert ExportStatus.from_wire({"task_id": "T", "success": False}).success is False


def test_project_and_enni_referentials() -> None:
    project = Project.from_wire(
        {
            "code": "PRJ1",
            "active": True,
            "start_date": "2024-01-01",
            "end_date": None,
            "code_client": "C9",
        }
    )
    assert (project.code, project.active, project.code_client) == ("PRJ1", True, "C9")
    assert project.start_date == date(2024, 1, 1) and project.end_date is None
    enni = Enni.from_wire(
        {
            "Code": "E1",
            "name": "Rouen",
            "short_name": "RN",
            "reference": "CN012345",
            "label": "Rouen port",
            "offer": "BPE",
            "dsp": "Seine",
            "delivery_mode": "standard",
            "active": "false",
        }
    )
    assert (enni.code, enni.reference, enni.offer, enni.active) == ("E1", "CN012345", "BPE", False)
    assert Enni.from_wire({"code": "E2"}).code == "E2"


def test_tracked_order_and_historic_steps() -> None:
    order = TrackedOrder.from_wire(
        {
            "modification_date": "2025-05-01T08:00:00+02:00",
            "order_reference": "CMD_X_00009444",
            "id": "PO_DC173_20250423_003366",
            "order_date": "2025-04-23",
            "cancellation_date": None,
            "cancellation_reason": "",
            "completion_date": None,
            "state": "rejected_adv",
            "project_id": "PRJ1",
            "offer_technology": "FIBDE",
            "commitment": 12,
        }
    )
    assert order.order_reference == "CMD_X_00009444"
    assert order.order_date == date(2025, 4, 23)
    assert order.commitment == "12"
    assert order.state == "rejected_adv" and order.is_final
    step = HistoricStep.from_wire({"step": "optical_route_received", "change_date": "2025-05-02"})
    assert step.code == "optical_route_received"
    assert step.date == datetime(2025, 5, 2, tzinfo=UTC)
    other = HistoricStep.from_wire(
        {"code": "technical_visit_planned", "label": "Visit", "date": None}
    )
    assert (other.code, other.label, other.date) == ("technical_visit_planned", "Visit", None)
    assert other.raw == {"code": "technical_visit_planned", "label": "Visit", "date": None}


def test_a_line_read_back_can_be_sent_again_with_the_request_fields_only():
    line = OrderLine.from_wire(
        {"id": "L1", "state": "created", "enni2": "CN2", "cpe_network_number": "NET-1"}
    )
    wire = line.to_wire()
    assert wire["enni_2"] == "CN2" and wire["cpe_networking_number"] == "NET-1"
    assert not {"id", "state", "raw", "state_change"} & set(wire)
    assert set(wire) <= LinePayload.field_names()


# The request tables of the Order Taking document, row by row, in their order.
POST_TABLE = (
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
    "enni_2",
    "vlan_reference",
    "customer_order_name",
    "business_code",
    "billing_site_ref",
    "related_contact_information",
    "siret_known",
    "additional_vlan_reference",
    "offer_family",
    "offer_technology",
    "specific_request",
    "access_instructions",
    "scheduled_delivery_date",
    "cpe_networking_number",
    "cpe_serial_number",
)
PATCH_TABLE = tuple(name for name in POST_TABLE if name not in ("offer_family", "offer_technology"))


def test_one_declaration_of_the_endpoints_tables() -> None:
    assert tuple(row.name for row in LINE_WIRE_FIELDS) == POST_TABLE
    assert tuple(row.name for row in LINE_WIRE_FIELDS if row.post) == POST_TABLE
    assert tuple(row.name for row in LINE_WIRE_FIELDS if row.patch) == PATCH_TABLE
    assert LinePayload.field_names() == LINE_CREATE_FIELDS == frozenset(POST_TABLE)
    assert LinePayload.update_field_names() == LINE_UPDATE_FIELDS == frozenset(PATCH_TABLE)
    assert {"offer_family", "offer_technology"} == OFFER_FIELDS
    # The examples' other spellings are read, never sent.
    assert WIRE_ALIASES == {"enni2": "enni_2", "cpe_network_number": "cpe_networking_number"}
    # The PATCH body never carries an offer field, whatever the payload holds.
    body = LinePayload(offer_family="BPE", offer_technology="FIBDE").to_wire(
        only=LINE_UPDATE_FIELDS
    )
    assert set(body) == set(PATCH_TABLE)


def test_an_answer_is_read_row_by_row_with_either_spelling() -> None:
    line = OrderLine.from_wire(
        {
            "id": "L",
            "state": "created",
            "enni2": "AZ2",
            "cpe_network_number": "NET-9",
            "vlan_reference": "12",
            "siret_known": "true",
            "scheduled_delivery_date": "2025-09-21T00:00:00+02:00",
            "option_ids": [7021],
            "offer_family": None,
        }
    )
    assert (line.enni_2, line.cpe_networking_number) == ("AZ2", "NET-9")
    assert (line.vlan_reference, line.siret_known) == (12, True)
    assert line.scheduled_delivery_date == date(2025, 9, 21)
    assert (line.option_ids, line.offer_family) == (["7021"], "")
    assert line.related_contact_information == []
