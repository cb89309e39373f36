"""The rules a session must meet before it is confirmed at Covage.

They are the Order Taking document's: the fields "required during confirmation only", CPE
fields if and only if option 7021, no ENNI for the DIA offer, the SIRET when the SIRET is
said to be known, and at least one line. Formats are checked again too, since a draft may
hold values typed before a rule changed. Every problem names the line, the field and the step
that fixes it, so the check page can link straight to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from orders import validators
from orders.models import LineContact, OrderLine, OrderSession
from orders.steps import CUSTOMER, Step, step_for_field

CPE_OPTION = "7021"
DIA_OFFER_FAMILY = "DIA"

REQUIRED_LINE_FIELDS = ("product_offering_id", "product_offering_qualification_item_id")
# The first contact entry's fields that Covage requires when the session is confirmed.
REQUIRED_CONTACT_FIELDS = (
    "end_customer_name",
    "contact1_firstname",
    "contact1_lastname",
    "contact1_email_address",
    "contact1_phone_number",
    "street_number",
    "street_name",
    "postcode",
    "city",
    "insee_code",
)
_CONTACT_FORMATS: dict[str, Callable[[str], None]] = {
    "siret": validators.validate_siret,
    "postcode": validators.validate_postcode,
    "insee_code": validators.validate_insee_code,
    "contact1_phone_number": validators.validate_phone_number,
    "contact2_phone_number": validators.validate_phone_number,
}


@dataclass(frozen=True)
class Problem:
    line: OrderLine | None
    field: str
    step: Step | None
    message: str
    contact_index: int | None = None

    @property
    def label(self) -> str:
        """The field's label as the form shows it."""
        if self.line is None:
            return ""
        model = LineContact if self.contact_index is not None else OrderLine
        try:
            return str(model._meta.get_field(self.field).verbose_name)
        except Exception:
            return self.field.replace("_", " ")


def is_dia(line: OrderLine) -> bool:
    return line.offer_family.strip().upper() == DIA_OFFER_FAMILY


def has_cpe_option(line: OrderLine) -> bool:
    return CPE_OPTION in {str(option) for option in line.option_ids or []}


def check_session(session: OrderSession, lines: Iterable[OrderLine] | None = None) -> list[Problem]:
    """Every problem that would stop `session` from being confirmed, in line order."""
    if lines is None:
        lines = session.lines.filter(deleted_at__isnull=True).prefetch_related("contacts")
    lines = list(lines)
    if not lines:
        return [Problem(None, "lines", None, "Add at least one line before confirming.")]
    problems: list[Problem] = []
    for line in lines:
        problems.extend(check_line(line))
    return problems


def check_line(line: OrderLine) -> list[Problem]:
    problems: list[Problem] = []

    def add(field: str, message: str, contact_index: int | None = None) -> None:
        step = step_for_field(field, contact_index=contact_index)
        problems.append(Problem(line, field, step, message, contact_index))

    for field in REQUIRED_LINE_FIELDS:
        if not getattr(line, field):
            add(field, "Required: copy it from the eligibility result.")

    if is_dia(line):
        if line.enni:
            add("enni", "Leave the ENNI empty for the DIA offer: Covage sets it.")
    elif not line.enni:
        add("enni", "Choose the ENNI (collection port) the line is delivered on.")

    cpe_fields = ("cpe_networking_number", "cpe_serial_number")
    if has_cpe_option(line):
        for field in cpe_fields:
            if not getattr(line, field):
                add(field, f"Required with option {CPE_OPTION} (CPE).")
    else:
        for field in cpe_fields:
            if getattr(line, field):
                add(field, f"Must be empty unless option {CPE_OPTION} (CPE) is chosen.")

    try:
        validators.validate_vlan(line.vlan_reference)
    except ValidationError as exc:
        add("vlan_reference", exc.messages[0])
    try:
        validators.validate_not_in_past(line.scheduled_delivery_date)
    except ValidationError as exc:
        add("scheduled_delivery_date", exc.messages[0])

    contacts = sorted(line.contacts.all(), key=lambda c: c.position)
    if not contacts:
        problems.append(
            Problem(line, "end_customer_name", CUSTOMER, "Enter the end customer and a contact.", 0)
        )
        return problems
    first = contacts[0]
    for field in REQUIRED_CONTACT_FIELDS:
        if not getattr(first, field):
            add(field, "Required to confirm.", contact_index=0)
    if line.siret_known and not first.siret:
        add("siret", "Enter the SIRET number, or untick “SIRET known”.", contact_index=0)
    for index, contact in enumerate(contacts):
        for field, validate in _CONTACT_FORMATS.items():
            value = getattr(contact, field)
            if value:
                try:
                    validate(value)
                except ValidationError as exc:
                    add(field, exc.messages[0], contact_index=index)
    return problems
