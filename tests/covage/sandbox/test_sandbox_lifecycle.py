"""After confirmation: rules, termination errors, final states, DIA, order tracking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from covage.sandbox.models import ProductOrder, ProductOrderItem

pytestmark = [pytest.mark.urls("covage.sandbox.urls"), pytest.mark.django_db]

CREATED_STATES = {"acknowledged", "held_adv_validation", "in_progress"}


def errors_of(item: dict) -> set[tuple[str, str, str]]:
    return {(e["code"], e["property_path"], e["value"]) for e in item["termination_error"]}


def confirm_and_read(api, session_id: str) -> dict:
    assert api.confirm(session_id).status_code == 200
    return api.session(session_id)


def test_all_clean_lines_complete_the_session(api, line) -> None:
    session = api.new_session()
    for _ in range(3):
        api.new_line(session["id"], **line())
    body = confirm_and_read(api, session["id"])
    assert body["state"] == "completed"
    assert body["completion_date"] is not None
    for item in body["product_order_item"]:
        assert item["state"] in CREATED_STATES
        assert item["termination_error"] == []
        assert item["order_reference"].startswith("CMD_X_")
        assert len(item["order_reference"]) == len("CMD_X_00009444")
        assert item["order_date"] is not None
        assert item["building_ref"].startswith("IMB/76451/")
        assert [c["state"] for c in item["state_change"]] == [
            "created",
            "in_progress",
            item["state"],
        ]


def test_session_stays_in_progress_until_the_delay(api, line, knobs) -> None:
    knobs(CONFIRM_DELAY=60)
    session = api.new_session()
    api.new_line(session["id"], **line())
    body = confirm_and_read(api, session["id"])
    assert body["state"] == "in_progress"
    assert body["product_order_item"][0]["state"] == "in_progress"
    assert body["product_order_item"][0]["order_reference"] == ""
    ProductOrder.objects.filter(uid=session["id"]).update(
        order_date=timezone.now() - timedelta(seconds=61)
    )
    body = api.session(session["id"])
    assert body["state"] == "completed"
    confirmed_at = ProductOrder.objects.get(uid=session["id"]).order_date
    # Resolution is dated confirmation + delay, not the moment it was read.
    assert (ProductOrder.objects.get(uid=session["id"]).completion_date - confirmed_at) == (
        timedelta(seconds=60)
    )


def test_mixed_lines_give_partial_with_one_error_per_rule(api, line, contact_info) -> None:
    session = api.new_session()
    clean = api.new_line(session["id"], **line())
    no_enni = api.new_line(session["id"], **line(enni=""))
    no_contact = api.new_line(session["id"], **line(related_contact_information=[]))
    bad_contact = api.new_line(
        session["id"],
        **line(related_contact_information=[contact_info(postcode="", insee_code=None, city=" ")]),
    )
    no_siret = api.new_line(
        session["id"], **line(related_contact_information=[contact_info(siret="")])
    )
    cpe_missing = api.new_line(
        session["id"], **line(option_ids=["2210", "7021"], cpe_network_number="NET-1")
    )
    cpe_forbidden = api.new_line(
        session["id"],
        **line(cpe_networking_number="NET-123456", cpe_serial_number="SR-123456"),
    )
    body = confirm_and_read(api, session["id"])
    assert body["state"] == "partial"
    items = {item["id"]: item for item in body["product_order_item"]}

    assert items[clean["id"]]["state"] in CREATED_STATES
    for rejected in (no_enni, no_contact, bad_contact, no_siret, cpe_missing, cpe_forbidden):
        item = items[rejected["id"]]
        assert item["state"] == "rejected_creation"
        assert item["order_reference"] == ""
        assert item["state_change"][-1]["state"] == "rejected_creation"

    assert errors_of(items[no_enni["id"]]) == {("required", "enni", "")}
    assert errors_of(items[no_contact["id"]]) == {
        ("required", "related_contact_information", ""),
        # siret_known is true in the clean line, and there is no contact to carry the siret.
        ("siret_required_when_known", "related_contact_information[0].siret", ""),
    }
    assert errors_of(items[bad_contact["id"]]) == {
        ("required", "related_contact_information[0].postcode", ""),
        ("required", "related_contact_information[0].insee_code", ""),
        ("required", "related_contact_information[0].city", " "),
    }
    assert errors_of(items[no_siret["id"]]) == {
        ("siret_required_when_known", "related_contact_information[0].siret", "")
    }
    assert errors_of(items[cpe_missing["id"]]) == {
        ("cpe_required_with_option_7021", "cpe_serial_number", "")
    }
    assert errors_of(items[cpe_forbidden["id"]]) == {
        ("cpe_forbidden_without_option_7021", "cpe_network_number", "NET-123456"),
        ("cpe_forbidden_without_option_7021", "cpe_serial_number", "SR-123456"),
    }


def test_every_required_contact_field_is_checked(api, line) -> None:
    session = api.new_session()
    api.new_line(session["id"], **line(related_contact_information=[{}], siret_known=False))
    (item,) = confirm_and_read(api, session["id"])["product_order_item"]
    paths = {e["property_path"] for e in item["termination_error"]}
    assert paths == {
        f"related_contact_information[0].{name}"
        for name in (
            "end_customer_name",
            "contact1_email_address",
            "contact1_firstname",
            "contact1_lastname",
            "contact1_phone_number",
            "city",
            "postcode",
            "street_name",
            "street_number",
            "insee_code",
        )
    }
    assert {e["code"] for e in item["termination_error"]} == {"required"}


def test_option_7021_with_both_cpe_fields_is_clean(api, line) -> None:
    session = api.new_session()
    api.new_line(
        session["id"],
        **line(option_ids=["7021"], cpe_network_number="NET-1", cpe_serial_number="SR-1"),
    )
    body = confirm_and_read(api, session["id"])
    assert body["state"] == "completed"


def test_cpe_error_paths_follow_the_spelling_knob(api, line, knobs) -> None:
    knobs(SPELLING="tables")
    session = api.new_session()
    api.new_line(session["id"], **line(option_ids=["7021"]))
    (item,) = confirm_and_read(api, session["id"])["product_order_item"]
    assert {e["property_path"] for e in item["termination_error"]} == {
        "cpe_networking_number",
        "cpe_serial_number",
    }


def test_all_bad_lines_reject_the_session(api, line) -> None:
    session = api.new_session()
    api.new_line(session["id"], **line(enni=""))
    api.new_line(session["id"], **line(related_contact_information=[]))
    body = confirm_and_read(api, session["id"])
    assert body["state"] == "rejected"
    assert body["completion_date"] is not None
    assert {item["state"] for item in body["product_order_item"]} == {"rejected_creation"}
    assert api.get("/api/v1/order/").json() == []


def test_dia_needs_no_enni_and_gets_a_computed_one(api, line) -> None:
    session = api.new_session()
    without = api.new_line(session["id"], **line(offer_family="DIA", enni=""))
    sent = api.new_line(session["id"], **line(offer_family="dia", enni="CN012345"))
    assert sent["enni"] == "CN012345"  # replaced when the order is created, not before
    body = confirm_and_read(api, session["id"])
    assert body["state"] == "completed"
    items = {item["id"]: item for item in body["product_order_item"]}
    for created in (without, sent):
        enni = items[created["id"]]["enni"]
        assert enni.startswith("CN9") and len(enni) == 8
    assert items[sent["id"]]["enni"] != "CN012345"


def test_outcomes_are_reproducible_with_a_seed(api, line, knobs) -> None:
    knobs(SEED="fixed")
    session = api.new_session()
    for _ in range(12):
        api.new_line(session["id"], **line())
    items = confirm_and_read(api, session["id"])["product_order_item"]
    states = [item["state"] for item in items]
    assert set(states) <= CREATED_STATES
    assert len(set(states)) > 1  # 12 draws among 3 states
    # Resolving again from the same data gives the same answers.
    ProductOrderItem.objects.filter(product_order__uid=session["id"]).update(
        state="in_progress", order_reference=""
    )
    ProductOrder.objects.filter(uid=session["id"]).update(state="in_progress")
    again = [item["state"] for item in api.session(session["id"])["product_order_item"]]
    assert again == states


# --- Order tracking ------------------------------------------------------------------------------

ORDER_FIELDS = {
    "modification_date",
    "order_reference",
    "id",
    "order_date",
    "cancellation_date",
    "cancellation_reason",
    "completion_date",
    "state",
    "project_id",
    "offer_technology",
    "commitment",
}


def created_order(api, line) -> dict:
    session = api.new_session(project_id="PRJ-2024-017")
    api.new_line(session["id"], **line(project_id=""))
    api.new_line(session["id"], **line(enni=""))  # rejected: not an order
    items = confirm_and_read(api, session["id"])["product_order_item"]
    return next(item for item in items if item["order_reference"])


def age_orders(seconds: float) -> None:
    for item in ProductOrderItem.objects.exclude(order_reference=""):
        item.resolved_at = item.resolved_at - timedelta(seconds=seconds)
        item.save(update_fields=["resolved_at"])


def test_order_list_and_detail(api, line) -> None:
    item = created_order(api, line)
    response = api.get("/api/v1/order/")
    assert response.status_code == 200
    (order,) = response.json()
    assert set(order) == ORDER_FIELDS
    assert order["order_reference"] == item["order_reference"]
    assert order["id"] == item["temporary_reference"]
    assert order["state"] == "confirmed"
    assert order["project_id"] == "PRJ-2024-017"  # the session's, as the line has none
    assert order["offer_technology"] == "FIBDE"
    assert order["order_date"] == item["order_date"][:10]
    assert order["commitment"] in (12, 24, 36)
    assert order["completion_date"] is None
    assert api.get("/api/v1/order").json() == [order]
    assert api.get(f"/api/v1/order/{item['order_reference']}/").json() == order
    assert api.get(f"/api/v1/order/{item['order_reference']}").json() == order
    assert api.get("/api/v1/order/CMD_X_99999999/").status_code == 404
    assert api.get("/api/v1/order/CMD_X_99999999/historic/").status_code == 404


def test_order_progresses_one_step_per_period(api, line) -> None:
    item = created_order(api, line)
    reference = item["order_reference"]
    historic = api.get(f"/api/v1/order/{reference}/historic/")
    assert historic.status_code == 200
    assert historic.json() == []

    age_orders(31)
    steps = api.get(f"/api/v1/order/{reference}/historic").json()
    assert [step["code"] for step in steps] == ["production_manager_assigned"]
    assert set(steps[0]) == {"code", "label", "date"}
    order = api.get(f"/api/v1/order/{reference}/").json()
    assert order["state"] == "in_progress"
    assert order["modification_date"] == steps[0]["date"]

    age_orders(60)
    codes = [step["code"] for step in api.get(f"/api/v1/order/{reference}/historic/").json()]
    assert codes == [
        "production_manager_assigned",
        "optical_route_received",
        "technical_visit_planned",
    ]

    age_orders(3600)
    steps = api.get(f"/api/v1/order/{reference}/historic/").json()
    assert [step["code"] for step in steps] == [
        "production_manager_assigned",
        "optical_route_received",
        "technical_visit_planned",
        "technical_visit_done",
        "network_built",
        "service_activated",
    ]
    dates = [step["date"] for step in steps]
    assert dates == sorted(dates)
    order = api.get(f"/api/v1/order/{reference}/").json()
    assert order["state"] == "active"
    assert order["completion_date"] == steps[-1]["date"]


def test_tracking_step_zero_activates_at_once(api, line, knobs) -> None:
    knobs(TRACKING_STEP_SECONDS=0)
    item = created_order(api, line)
    order = api.get(f"/api/v1/order/{item['order_reference']}/").json()
    assert order["state"] == "active"
