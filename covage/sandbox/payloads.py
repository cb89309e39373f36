"""Input validation/normalisation and output representation of sessions and lines.

Validation follows the types of the documentation's tables, strictly (a number where a string is
expected is refused), and answers DRF-style errors: `{"field": ["message"]}`, nested per entry
for `related_contact_information` (`[{"postcode": [...]}, {}]`). Null is accepted for every
optional field and stored as the field's empty value.

Strict as the documents: a body field that the endpoint's request table does not list is refused
with `{"<field>": ["Unknown field."]}` (every unknown field listed, beside any other error).
POST /api/v1/product_order takes `external_id` and `project_id`; POST of a line takes the 26
fields of its table; PATCH of a line takes its own table, which has no `offer_family` nor
`offer_technology`; a `related_contact_information` entry takes the keys of the contact table
(errors nested per entry); `/confirm/` and the export POST take no field at all (an empty body
or `{}` is fine), and the DELETE of a line none but its table's path parameters.

Both spellings of the documents are read (`enni_2`/`enni2`, `cpe_networking_number`/
`cpe_network_number`; the tables' spelling wins when both are sent); lines are stored in the
tables' spelling and answered in the knob SPELLING's.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.http import HttpRequest

from covage.sandbox.http import ApiError, iso
from covage.sandbox.knobs import table_spelling
from covage.sandbox.models import ProductOrder, ProductOrderItem

ALIASES = {"enni2": "enni_2", "cpe_network_number": "cpe_networking_number"}
EXAMPLE_SPELLING = {"enni_2": "enni2", "cpe_networking_number": "cpe_network_number"}

LINE_STRING_FIELDS = (
    "end_customer_name",
    "external_id",
    "note",
    "technical_note",
    "product_offering_id",
    "product_offering_qualification_item_id",
    "project_id",
    "quote_item_id",
    "delivery_mode",
    "enni",
    "enni_2",
    "customer_order_name",
    "business_code",
    "billing_site_ref",
    "additional_vlan_reference",
    "offer_family",
    "offer_technology",
    "specific_request",
    "access_instructions",
    "cpe_networking_number",
    "cpe_serial_number",
)
LINE_REQUIRED_ON_CREATE = ("product_offering_id", "product_offering_qualification_item_id")

# The request tables, in the documents' order (the tables' spelling; ALIASES are read too).
SESSION_FIELDS = ("external_id", "project_id")
LINE_CREATE_FIELDS = (
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
# The DELETE table lists the path's two parameters: nothing else may come in its body.
DELETE_FIELDS = ("product_order_id", "item_id")
# The PATCH table lists neither offer_family nor offer_technology.
LINE_UPDATE_FIELDS = tuple(
    name for name in LINE_CREATE_FIELDS if name not in ("offer_family", "offer_technology")
)

CONTACT_STRING_FIELDS = (
    "end_customer_name",
    "siret",
    "contact1_email_address",
    "contact1_firstname",
    "contact1_lastname",
    "contact1_phone_number",
    "contact2_email_address",
    "contact2_firstname",
    "contact2_lastname",
    "contact2_phone_number",
    "city",
    "postcode",
    "street_name",
    "street_number",
    "street_number_extension",
    "insee_code",
    "building_name",
    "level_number",
)
CONTACT_NUMBER_FIELDS = ("latitude", "longitude")
CONTACT_FIELDS = CONTACT_STRING_FIELDS + CONTACT_NUMBER_FIELDS

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
NOT_STRING = "Not a valid string."
NOT_INTEGER = "A valid integer is required."
NOT_NUMBER = "A valid number is required."
NOT_BOOLEAN = "Must be a valid boolean."
BAD_DATE = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
UNKNOWN = "Unknown field."
_INTEGER_RE = re.compile(r"^\s*[-+]?\d+\s*$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Errors = dict[str, Any]


class BadRequest(ApiError):
    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body, 400)


def _type_name(value: Any) -> str:
    return {dict: "dict", list: "list", str: "str", bool: "bool", int: "int", float: "float"}.get(
        type(value), type(value).__name__
    )


def parse_json_object(request: HttpRequest, *, allow_empty: bool = True) -> dict[str, Any]:
    raw = request.body
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadRequest({"non_field_errors": ["No data provided"]})
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest({"detail": f"JSON parse error - {exc}"}) from exc
    if not isinstance(body, dict):
        raise BadRequest(
            {
                "non_field_errors": [
                    f"Invalid data. Expected a dictionary, but got {_type_name(body)}."
                ]
            }
        )
    return body


def unknown_fields(body: dict[str, Any], known: tuple[str, ...]) -> Errors:
    """`{name: ["Unknown field."]}` for each key of `body` not in `known` (nor an alias of one)."""
    accepted = set(known) | {alias for alias, name in ALIASES.items() if name in known}
    return {str(name): [UNKNOWN] for name in body if name not in accepted}


def validate_no_fields(body: dict[str, Any], known: tuple[str, ...] = ()) -> None:
    """For the endpoints whose body carries nothing (confirm, export; DELETE names its path's
    parameters in its table, which may come but are not read: the path is what counts)."""
    if errors := unknown_fields(body, known):
        raise BadRequest(errors)


def _check_string(value: Any) -> str | None:
    return None if isinstance(value, str) else NOT_STRING


def _vlan(value: Any) -> tuple[int | None, str | None]:
    # The tables say number, the examples send "1257": both are read, a number is stored.
    if isinstance(value, bool):
        return None, NOT_INTEGER
    if isinstance(value, int):
        return value, None
    if isinstance(value, float) and value.is_integer():
        return int(value), None
    if isinstance(value, str) and _INTEGER_RE.match(value):
        return int(value), None
    return None, NOT_INTEGER


def _date(value: Any) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return None, BAD_DATE
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return None, BAD_DATE
    return value, None


def empty_contact() -> dict[str, Any]:
    contact: dict[str, Any] = dict.fromkeys(CONTACT_STRING_FIELDS, "")
    contact.update(dict.fromkeys(CONTACT_NUMBER_FIELDS))
    return contact


def _contact(value: Any) -> tuple[dict[str, Any], Errors]:
    if not isinstance(value, dict):
        return {}, {
            "non_field_errors": [
                f"Invalid data. Expected a dictionary, but got {_type_name(value)}."
            ]
        }
    clean = empty_contact()
    errors: Errors = unknown_fields(value, CONTACT_FIELDS)
    for name in CONTACT_STRING_FIELDS:
        if name in value and value[name] is not None:
            if message := _check_string(value[name]):
                errors[name] = [message]
            else:
                clean[name] = value[name]
    for name in CONTACT_NUMBER_FIELDS:
        item = value.get(name)
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, int | float):
            errors[name] = [NOT_NUMBER]
        else:
            clean[name] = item
    return clean, errors


def empty_line() -> dict[str, Any]:
    data: dict[str, Any] = dict.fromkeys(LINE_STRING_FIELDS, "")
    data.update(
        option_ids=[],
        vlan_reference=None,
        related_contact_information=[],
        siret_known=False,
        scheduled_delivery_date=None,
    )
    return data


def validate_line(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The fields present in `body`, normalised; raises BadRequest with per-field messages.

    `partial` is the PATCH: no field is required, and the PATCH table is the one that applies.
    """
    known = LINE_UPDATE_FIELDS if partial else LINE_CREATE_FIELDS
    errors: Errors = unknown_fields(body, known)
    values = {name: value for name, value in body.items() if name not in errors}
    for alias, name in ALIASES.items():
        if alias in values:
            aliased = values.pop(alias)
            values.setdefault(name, aliased)
    clean: dict[str, Any] = {}

    for name in LINE_STRING_FIELDS:
        if name not in known:
            continue
        required = name in LINE_REQUIRED_ON_CREATE
        if name not in values:
            if required and not partial:
                errors[name] = [REQUIRED]
            continue
        value = values[name]
        if value is None:
            if required:
                errors[name] = [NOT_NULL]
            else:
                clean[name] = ""
        elif message := _check_string(value):
            errors[name] = [message]
        elif required and not value.strip():
            errors[name] = [NOT_BLANK]
        else:
            clean[name] = value

    if "option_ids" in values:
        value = values["option_ids"]
        if value is None:
            clean["option_ids"] = []
        elif not isinstance(value, list):
            errors["option_ids"] = [f'Expected a list of items but got type "{_type_name(value)}".']
        elif any(not isinstance(item, str) for item in value):
            errors["option_ids"] = [NOT_STRING]
        else:
            clean["option_ids"] = value

    if "vlan_reference" in values:
        value = values["vlan_reference"]
        if value is None:
            clean["vlan_reference"] = None
        else:
            number, message = _vlan(value)
            if message:
                errors["vlan_reference"] = [message]
            else:
                clean["vlan_reference"] = number

    if "siret_known" in values:
        value = values["siret_known"]
        if value is None:
            clean["siret_known"] = False
        elif not isinstance(value, bool):
            errors["siret_known"] = [NOT_BOOLEAN]
        else:
            clean["siret_known"] = value

    if "scheduled_delivery_date" in values:
        value = values["scheduled_delivery_date"]
        if value is None:
            clean["scheduled_delivery_date"] = None
        else:
            day, message = _date(value)
            if message:
                errors["scheduled_delivery_date"] = [message]
            else:
                clean["scheduled_delivery_date"] = day

    if "related_contact_information" in values:
        value = values["related_contact_information"]
        if value is None:
            clean["related_contact_information"] = []
        elif not isinstance(value, list):
            errors["related_contact_information"] = [
                f'Expected a list of items but got type "{_type_name(value)}".'
            ]
        else:
            contacts, contact_errors = [], []
            for entry in value:
                contact, entry_errors = _contact(entry)
                contacts.append(contact)
                contact_errors.append(entry_errors)
            if any(contact_errors):
                errors["related_contact_information"] = contact_errors
            else:
                clean["related_contact_information"] = contacts

    if errors:
        raise BadRequest(errors)
    return clean


def validate_session(body: dict[str, Any]) -> dict[str, str]:
    clean: dict[str, str] = {}
    errors: Errors = unknown_fields(body, SESSION_FIELDS)
    for name in SESSION_FIELDS:
        value = body.get(name)
        if value is None:
            clean[name] = ""
        elif message := _check_string(value):
            errors[name] = [message]
        else:
            clean[name] = value
    if errors:
        raise BadRequest(errors)
    return clean


def out_name(name: str) -> str:
    """A line field's name in responses (and termination_error paths), per knob SPELLING."""
    if table_spelling():
        return name
    return EXAMPLE_SPELLING.get(name, name)


def line_repr(item: ProductOrderItem) -> dict[str, Any]:
    data = empty_line()
    data.update(item.data)
    contacts = [{**empty_contact(), **contact} for contact in data["related_contact_information"]]
    out: dict[str, Any] = {}
    for name in (
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
    ):
        out[out_name(name)] = data[name]
    out["related_contact_information"] = contacts
    out.update(
        {
            "siret_known": data["siret_known"],
            "additional_vlan_reference": data["additional_vlan_reference"],
            "specific_request": data["specific_request"],
            "access_instructions": data["access_instructions"],
            "scheduled_delivery_date": data["scheduled_delivery_date"],
            "id": str(item.uid),
            "product_order_id": str(item.product_order.uid),
            "cancellation_date": iso(item.cancellation_date),
            "cancellation_reason": item.cancellation_reason,
            "completion_date": iso(item.completion_date),
            "order_date": iso(item.order_date),
            "state": item.state,
            "state_change": item.state_change,
            "termination_error": item.termination_error,
            "order_reference": item.order_reference,
            "temporary_reference": item.temporary_reference,
            "building_ref": item.building_ref,
            "offer_family": data["offer_family"],
            "offer_technology": data["offer_technology"],
            out_name("cpe_networking_number"): data["cpe_networking_number"],
            "cpe_serial_number": data["cpe_serial_number"],
        }
    )
    return out


def session_repr(session: ProductOrder) -> dict[str, Any]:
    return {
        "external_id": session.external_id,
        "project_id": session.project_id,
        "id": str(session.uid),
        "creation_date": iso(session.creation_date),
        "cancellation_date": iso(session.cancellation_date),
        "completion_date": iso(session.completion_date),
        "order_date": iso(session.order_date),
        "state": session.state,
    }


def session_items(session: ProductOrder) -> list[dict[str, Any]]:
    items = list(session.items.all())
    for item in items:
        item.product_order = session  # saves one query per line
    return [line_repr(item) for item in items]


def session_with_items(session: ProductOrder) -> dict[str, Any]:
    return {**session_repr(session), "product_order_item": session_items(session)}


def session_summary(session: ProductOrder) -> dict[str, Any]:
    """The shape of the DELETE and confirm answers."""
    return {
        "external_id": session.external_id,
        "project_id": session.project_id,
        "id": str(session.uid),
        "product_order_item": session_items(session),
    }
