"""The steps a salesperson goes through to fill a line, and which fields each one holds.

Steps list field names only: each field's label, help text and checks are declared on its
model (orders/catalogue.py finds them), and the step forms are built from those declarations.
Everything that points a user at a field (the confirmation check, Covage's field errors,
termination errors) finds the step through `step_for_field`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from covage.schemas import WIRE_ALIASES

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Step:
    slug: str
    title: StrOrPromise
    line_fields: tuple[str, ...] = ()
    contact_fields: tuple[str, ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        """The step's fields, each once (a name may be both a line and a contact field)."""
        return tuple(dict.fromkeys((*self.line_fields, *self.contact_fields)))


OFFER = Step(
    "offer",
    _("Offer"),
    line_fields=(
        "product_offering_id",
        "product_offering_qualification_item_id",
        "quote_item_id",
        "offer_family",
        "offer_technology",
        "option_ids",
        "project_id",
        "external_id",
    ),
)
TECHNICAL = Step(
    "technical",
    _("Technical"),
    line_fields=(
        "delivery_mode",
        "enni",
        "enni_2",
        "vlan_reference",
        "additional_vlan_reference",
        "cpe_networking_number",
        "cpe_serial_number",
        "scheduled_delivery_date",
    ),
)
# The people of a contact entry. Every entry of a line repeats its end customer and its site
# (entry 0's, edited on the customer and address steps); the entries after the first differ
# by their people only, edited as a formset on the customer step (prefix CONTACT_ENTRIES).
PERSON_FIELDS = (
    "contact1_firstname",
    "contact1_lastname",
    "contact1_email_address",
    "contact1_phone_number",
    "contact2_firstname",
    "contact2_lastname",
    "contact2_email_address",
    "contact2_phone_number",
)
CUSTOMER = Step(
    "customer",
    _("End customer and contacts"),
    line_fields=(
        "end_customer_name",
        "siret_known",
        "customer_order_name",
        "business_code",
        "billing_site_ref",
    ),
    contact_fields=("end_customer_name", "siret", *PERSON_FIELDS),
)
ADDRESS = Step(
    "address",
    _("Site address"),
    line_fields=("access_instructions", "specific_request"),
    contact_fields=(
        "street_number",
        "street_number_extension",
        "street_name",
        "building_name",
        "level_number",
        "postcode",
        "city",
        "insee_code",
        "latitude",
        "longitude",
    ),
)
CONTACT_ENTRIES = "contacts"

REVIEW = Step("review", _("Notes and review"), line_fields=("note", "technical_note"))

STEPS: tuple[Step, ...] = (OFFER, TECHNICAL, CUSTOMER, ADDRESS, REVIEW)
STEPS_BY_SLUG = {step.slug: step for step in STEPS}

# Wire names that differ from ours (the documents spell two fields two ways): ours are the
# tables' names, so only the examples' other spellings need translating.
_WIRE_ALIASES = WIRE_ALIASES


def next_step(slug: str) -> Step | None:
    index = [s.slug for s in STEPS].index(slug)
    return STEPS[index + 1] if index + 1 < len(STEPS) else None


def previous_step(slug: str) -> Step | None:
    index = [s.slug for s in STEPS].index(slug)
    return STEPS[index - 1] if index > 0 else None


def split_property_path(path: str) -> tuple[str, int | None]:
    """'related_contact_information[0].postcode' -> ('postcode', 0); 'enni2' -> ('enni_2', None).

    Also accepts the dotted form 'related_contact_information.0.postcode'.
    """
    path = path.strip().lstrip("/").replace("/", ".")
    if path.startswith("related_contact_information"):
        rest = path[len("related_contact_information") :]
        index: int | None = None
        if rest.startswith("["):
            closing = rest.find("]")
            digits = rest[1:closing]
            index = int(digits) if digits.isdigit() else 0
            rest = rest[closing + 1 :]
        elif rest.startswith(".") and rest[1:].split(".", 1)[0].isdigit():
            head, _, tail = rest[1:].partition(".")
            index, rest = int(head), "." + tail
        field = rest.lstrip(".") or "related_contact_information"
        return _WIRE_ALIASES.get(field, field), index if index is not None else 0
    return _WIRE_ALIASES.get(path, path), None


def step_for_field(field: str, *, contact_index: int | None = None) -> Step:
    """The step that shows a field. Unknown fields land on the review step."""
    if contact_index is not None or field == "related_contact_information":
        for step in (CUSTOMER, ADDRESS):
            if field in step.contact_fields:
                return step
        return CUSTOMER
    for step in STEPS:
        if field in step.line_fields:
            return step
    return REVIEW


def field_anchor(field: str, *, contact_index: int | None = None) -> str:
    """The id of the input that shows a field of a line: a person of contact entry N (N ≥ 1)
    is form N - 1 of the customer step's formset of further entries."""
    if contact_index and field in PERSON_FIELDS:
        return f"id_{CONTACT_ENTRIES}-{contact_index - 1}-{field}"
    return f"id_{field}"


def entry_error_key(field: str, contact_index: int | None) -> str:
    """Where a Covage error about a field goes on the step's page: the field's name, or for
    a person of a further contact entry, its formset field's name (contacts-0-contact1_...)."""
    if contact_index and field in PERSON_FIELDS:
        return f"{CONTACT_ENTRIES}-{contact_index - 1}-{field}"
    return field
