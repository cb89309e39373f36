"""Wire payloads of the Covage API, as plain dataclasses.

The documents disagree with themselves: the tables write ``enni_2`` and
``cpe_networking_number``, the examples ``enni2`` and ``cpe_network_number``; ``vlan_reference``
is a number in the tables and a string in examples; dates are often null. Responses are read
leniently (both spellings, null or missing values) and requests are sent with the tables'
names. Every response object keeps the dict it came from in ``raw`` so callers can store
Covage's answer verbatim. States are open strings: the constants below are the documented
ones, not a closed list.

Which line field goes to which endpoint is declared once, by ``LinePayload``: one attribute per
row of the request tables, in their order, under the tables' name; a row missing from the
PATCH table, or spelled otherwise by the examples, says so in its metadata. The endpoints'
field sets (``LINE_CREATE_FIELDS``, ``LINE_UPDATE_FIELDS``), the spellings read and the names
sent all derive from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Self, get_type_hints

# --- States -----------------------------------------------------------------------------------
SESSION_CREATED = "created"
SESSION_IN_PROGRESS = "in_progress"
SESSION_COMPLETED = "completed"
SESSION_PARTIAL = "partial"
SESSION_REJECTED = "rejected"
SESSION_FINAL_STATES = frozenset({SESSION_COMPLETED, SESSION_PARTIAL, SESSION_REJECTED})

LINE_CREATED = "created"
LINE_IN_PROGRESS = "in_progress"
LINE_ACKNOWLEDGED = "acknowledged"
LINE_HELD_ADV_VALIDATION = "held_adv_validation"
LINE_REJECTED_CREATION = "rejected_creation"
LINE_TECHNICAL_ERROR = "technical_error"
# A line in one of these became an order that the tracking API follows.
LINE_ORDER_CREATED_STATES = frozenset({LINE_ACKNOWLEDGED, LINE_HELD_ADV_VALIDATION})
LINE_FAILED_STATES = frozenset({LINE_REJECTED_CREATION, LINE_TECHNICAL_ERROR})

ORDER_CONFIRMED = "confirmed"
ORDER_IN_PROGRESS = "in_progress"
ORDER_ACTIVE = "active"
ORDER_REJECTED = "rejected"
ORDER_CANCELLED = "cancelled"
ORDER_CHANGE_IN_PROGRESS = "change_in_progress"
ORDER_TERMINATE_IN_PROGRESS = "terminate_in_progress"
ORDER_TERMINATED = "terminated"
# Names from the older French tracking page; still accepted.
ORDER_HELD_ADV_VALIDATION = "held_adv_validation"
ORDER_REJECTED_ADV = "rejected_adv"
ORDER_PENDING_CANCELLATION = "pending_cancellation"
ORDER_COMPLETED = "completed"
ORDER_REJECTED_PROVIDER = "rejected_provider"
ORDER_FINAL_STATES = frozenset(
    {
        ORDER_REJECTED,
        ORDER_CANCELLED,
        ORDER_TERMINATED,
        ORDER_REJECTED_ADV,
        ORDER_REJECTED_PROVIDER,
    }
)


# --- Lenient readers --------------------------------------------------------------------------


def _str(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def _float(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_vlan(value: Any) -> int | None:
    """``vlan_reference`` arrives as 1257, "1257" or ""; anything not a whole number is None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 datetime (offset, ``Z`` or none) or bare date; naive values are taken as UTC
    so that Django (USE_TZ) never meets a naive datetime. Unreadable values give None; the
    original stays in ``raw``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_date(value: Any) -> date | None:
    """A date, read from ``YYYY-MM-DD`` or from a full datetime (its calendar date as written)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _first(data: dict[str, Any], *names: str) -> Any:
    """The first of ``names`` present with a non-null value (for the two spellings)."""
    for name in names:
        value = data.get(name)
        if value is not None and value != "":
            return value
    for name in names:
        if name in data:
            return data[name]
    return None


def _require_dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object for {what}, got {type(data).__name__}")
    return data


def _dict_list(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


# --- Contact ----------------------------------------------------------------------------------


@dataclass
class ContactInformation:
    """One entry of ``related_contact_information``: the site address and its contacts."""

    end_customer_name: str = ""
    siret: str = ""
    contact1_email_address: str = ""
    contact1_firstname: str = ""
    contact1_lastname: str = ""
    contact1_phone_number: str = ""
    contact2_email_address: str = ""
    contact2_firstname: str = ""
    contact2_lastname: str = ""
    contact2_phone_number: str = ""
    city: str = ""
    postcode: str = ""
    street_name: str = ""
    street_number: str = ""
    street_number_extension: str = ""
    insee_code: str = ""
    building_name: str = ""
    level_number: str = ""
    latitude: float | None = None
    longitude: float | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            # A null number is likely refused by a strict serializer; absent means unknown.
            if value is None:
                continue
            wire[item.name] = value
        return wire

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "related_contact_information")
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name in ("latitude", "longitude"):
                values[item.name] = _float(data.get(item.name))
            else:
                values[item.name] = _str(data.get(item.name))
        return cls(**values)


# --- Request ---------------------------------------------------------------------------------


def _row(*, patch: bool = True, aliases: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """The metadata of a request-table row that is not in both tables under one spelling:
    ``patch=False`` when the PATCH table does not list it (the creating POST's does),
    ``aliases`` for the other spellings the documents' examples use (read, never sent)."""
    return {"patch": patch, "aliases": aliases}


@dataclass(frozen=True)
class WireField:
    """One row of the order line's request tables."""

    name: str  # as the tables spell it: what is sent
    post: bool  # listed by "Creating an Order Line" (POST): every row is
    patch: bool  # listed by the PATCH table
    aliases: tuple[str, ...] = ()  # other spellings, read from answers

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class LinePayload:
    """The body of "Creating an Order Line" (POST) and of its update (PATCH): the rows of
    their request tables, in the tables' order and with their names (see the module's
    docstring). The PATCH table is the POST's less the offer family and technology, which an
    existing line cannot change."""

    end_customer_name: str = ""
    external_id: str = ""
    option_ids: list[str] = field(default_factory=list)
    note: str = ""
    technical_note: str = ""
    product_offering_id: str = ""
    product_offering_qualification_item_id: str = ""
    project_id: str = ""
    quote_item_id: str = ""
    delivery_mode: str = ""
    enni: str = ""
    enni_2: str = field(default="", metadata=_row(aliases=("enni2",)))
    vlan_reference: int | None = None
    customer_order_name: str = ""
    business_code: str = ""
    billing_site_ref: str = ""
    related_contact_information: list[ContactInformation] = field(default_factory=list)
    siret_known: bool | None = None
    additional_vlan_reference: str = ""
    offer_family: str = field(default="", metadata=_row(patch=False))
    offer_technology: str = field(default="", metadata=_row(patch=False))
    specific_request: str = ""
    access_instructions: str = ""
    scheduled_delivery_date: date | None = None
    cpe_networking_number: str = field(default="", metadata=_row(aliases=("cpe_network_number",)))
    cpe_serial_number: str = ""

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """The fields of the creating POST's table (also for OrderLine, which adds the
        response's)."""
        return LINE_CREATE_FIELDS

    @classmethod
    def update_field_names(cls) -> frozenset[str]:
        """The fields of the PATCH table: the POST's, less the offer family and technology,
        which an existing line cannot change."""
        return LINE_UPDATE_FIELDS

    def to_wire(self, only: set[str] | frozenset[str] | None = None) -> dict[str, Any]:
        """The JSON body, with the tables' names (``enni_2``, ``cpe_networking_number``).

        Without ``only``, unset optional values (None) are left out. With ``only`` (a PATCH of
        the changed fields), exactly those fields are sent and None is sent as null, which is
        how a field is cleared.
        """
        if only is not None:
            unknown = set(only) - LINE_CREATE_FIELDS
            if unknown:
                raise ValueError(f"unknown order line fields: {', '.join(sorted(unknown))}")
        wire: dict[str, Any] = {}
        for row in LINE_WIRE_FIELDS:
            if only is not None and row.name not in only:
                continue
            value = getattr(self, row.name)
            if row.name == "related_contact_information":
                value = [contact.to_wire() for contact in value]
            elif row.name == "option_ids":
                value = [str(option) for option in value]
            elif isinstance(value, date):
                value = value.isoformat()
            if value is None and only is None:
                continue
            wire[row.name] = value
        return wire

    @classmethod
    def values_from_wire(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The request fields of an answer, read leniently: either spelling, null or missing
        values, numbers written as strings."""
        return {
            row.name: _READERS[_LINE_TYPES[row.name]](_first(data, *row.spellings))
            for row in LINE_WIRE_FIELDS
        }


def _wire_field(item: Field[Any]) -> WireField:
    return WireField(
        name=item.name,
        post=True,
        patch=item.metadata.get("patch", True),
        aliases=item.metadata.get("aliases", ()),
    )


# The declaration read once: every row, then each endpoint's set of names.
LINE_WIRE_FIELDS: tuple[WireField, ...] = tuple(_wire_field(item) for item in fields(LinePayload))
LINE_CREATE_FIELDS = frozenset(row.name for row in LINE_WIRE_FIELDS if row.post)
LINE_UPDATE_FIELDS = frozenset(row.name for row in LINE_WIRE_FIELDS if row.patch)
# Fields the creating POST takes and the PATCH table does not list.
OFFER_FIELDS = LINE_CREATE_FIELDS - LINE_UPDATE_FIELDS
# Other spellings of the documents' examples -> the tables' names.
WIRE_ALIASES: dict[str, str] = {
    alias: row.name for row in LINE_WIRE_FIELDS for alias in row.aliases
}


def _str_list(value: Any) -> list[str]:
    return [_str(item) for item in value] if isinstance(value, list) else []


def _contacts(value: Any) -> list[ContactInformation]:
    return [ContactInformation.from_wire(item) for item in _dict_list(value)]


# How an answer's value is read, by the attribute's declared type.
_LINE_TYPES: dict[str, Any] = get_type_hints(LinePayload)
_READERS: dict[Any, Callable[[Any], Any]] = {
    str: _str,
    int | None: parse_vlan,
    bool | None: _bool,
    date | None: parse_date,
    list[str]: _str_list,
    list[ContactInformation]: _contacts,
}
_unreadable = [row.name for row in LINE_WIRE_FIELDS if _LINE_TYPES[row.name] not in _READERS]
if _unreadable:
    raise TypeError(f"no reader for the type of {', '.join(_unreadable)}")


# --- Responses --------------------------------------------------------------------------------


@dataclass
class StateChange:
    state: str
    change_date: datetime | None
    change_reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "state_change")
        return cls(
            state=_str(data.get("state")),
            change_date=parse_datetime(data.get("change_date")),
            change_reason=_str(data.get("change_reason")),
            raw=data,
        )


@dataclass
class TerminationError:
    code: str
    property_path: str
    value: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "termination_error")
        return cls(
            code=_str(data.get("code")),
            property_path=_str(data.get("property_path")),
            value=_str(data.get("value")),
            raw=data,
        )


@dataclass(kw_only=True)
class OrderLine(LinePayload):
    """An order line (``product_order_item``) as Covage returns it: the request's fields
    (read with both spellings) plus what Covage adds."""

    id: str
    state: str
    product_order_id: str = ""
    cancellation_date: datetime | None = None
    cancellation_reason: str = ""
    completion_date: datetime | None = None
    order_date: datetime | None = None
    state_change: list[StateChange] = field(default_factory=list)
    termination_error: list[TerminationError] = field(default_factory=list)
    order_reference: str = ""
    temporary_reference: str = ""
    building_ref: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "an order line")
        return cls(
            **cls.values_from_wire(data),
            id=_str(data.get("id")),
            state=_str(data.get("state")),
            product_order_id=_str(data.get("product_order_id")),
            cancellation_date=parse_datetime(data.get("cancellation_date")),
            cancellation_reason=_str(data.get("cancellation_reason")),
            completion_date=parse_datetime(data.get("completion_date")),
            order_date=parse_datetime(data.get("order_date")),
            state_change=[
                StateChange.from_wire(item) for item in _dict_list(data.get("state_change"))
            ],
            termination_error=[
                TerminationError.from_wire(item)
                for item in _dict_list(data.get("termination_error"))
            ],
            order_reference=_str(data.get("order_reference")),
            temporary_reference=_str(data.get("temporary_reference")),
            building_ref=_str(data.get("building_ref")),
            raw=data,
        )


@dataclass
class OrderSession:
    """An order session (``product_order``). The confirm and DELETE answers carry no state
    and no dates: those fields are then empty, and ``items`` holds the lines."""

    id: str
    state: str = ""
    external_id: str = ""
    project_id: str = ""
    creation_date: datetime | None = None
    cancellation_date: datetime | None = None
    completion_date: datetime | None = None
    order_date: datetime | None = None
    items: list[OrderLine] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_final(self) -> bool:
        return self.state in SESSION_FINAL_STATES

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "an order session")
        return cls(
            id=_str(data.get("id")),
            state=_str(data.get("state")),
            external_id=_str(data.get("external_id")),
            project_id=_str(data.get("project_id")),
            creation_date=parse_datetime(data.get("creation_date")),
            cancellation_date=parse_datetime(data.get("cancellation_date")),
            completion_date=parse_datetime(data.get("completion_date")),
            order_date=parse_datetime(data.get("order_date")),
            items=[
                OrderLine.from_wire(item) for item in _dict_list(data.get("product_order_item"))
            ],
            raw=data,
        )


@dataclass
class ExportStatus:
    task_id: str
    success: bool | None
    started: datetime | None = None
    stopped: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def finished(self) -> bool:
        return self.success is not None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "an export status")
        return cls(
            task_id=_str(data.get("task_id")),
            success=_bool(data.get("success")),
            started=parse_datetime(data.get("started")),
            stopped=parse_datetime(data.get("stopped")),
            raw=data,
        )


@dataclass
class Project:
    code: str
    active: bool | None = None
    start_date: date | None = None
    end_date: date | None = None
    code_client: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "a project")
        return cls(
            code=_str(data.get("code")),
            active=_bool(data.get("active")),
            start_date=parse_date(data.get("start_date")),
            end_date=parse_date(data.get("end_date")),
            code_client=_str(data.get("code_client")),
            raw=data,
        )


@dataclass
class Enni:
    """An ENNI (collection port). Its ``reference`` is what goes into a line's ``enni``."""

    code: str
    reference: str = ""
    name: str = ""
    short_name: str = ""
    label: str = ""
    offer: str = ""
    dsp: str = ""
    delivery_mode: str = ""
    active: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "an ENNI")
        return cls(
            code=_str(_first(data, "code", "Code")),
            reference=_str(data.get("reference")),
            name=_str(data.get("name")),
            short_name=_str(data.get("short_name")),
            label=_str(data.get("label")),
            offer=_str(data.get("offer")),
            dsp=_str(data.get("dsp")),
            delivery_mode=_str(data.get("delivery_mode")),
            active=_bool(data.get("active")),
            raw=data,
        )


@dataclass
class TrackedOrder:
    """An order followed by the tracking API (``/api/v1/order/``). Its ``id`` is the line's
    ``temporary_reference``; ``order_reference`` is the final one (``CMD_...``)."""

    order_reference: str
    state: str
    id: str = ""
    modification_date: datetime | None = None
    order_date: date | None = None
    cancellation_date: datetime | None = None
    cancellation_reason: str = ""
    completion_date: datetime | None = None
    project_id: str = ""
    offer_technology: str = ""
    commitment: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_final(self) -> bool:
        return self.state in ORDER_FINAL_STATES

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "a tracked order")
        return cls(
            order_reference=_str(data.get("order_reference")),
            state=_str(data.get("state")),
            id=_str(data.get("id")),
            modification_date=parse_datetime(data.get("modification_date")),
            order_date=parse_date(data.get("order_date")),
            cancellation_date=parse_datetime(data.get("cancellation_date")),
            cancellation_reason=_str(data.get("cancellation_reason")),
            completion_date=parse_datetime(data.get("completion_date")),
            project_id=_str(data.get("project_id")),
            offer_technology=_str(data.get("offer_technology")),
            commitment=_str(data.get("commitment")),
            raw=data,
        )


@dataclass
class HistoricStep:
    """One production step of an order. The field names are undocumented (only step codes
    such as ``production_manager_assigned`` are), so several plausible ones are read."""

    code: str
    label: str = ""
    date: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        data = _require_dict(data, "an order historic step")
        return cls(
            code=_str(_first(data, "code", "step", "state", "name")),
            label=_str(_first(data, "label", "description", "change_reason")),
            date=parse_datetime(_first(data, "date", "change_date", "step_date")),
            raw=data,
        )
