"""A line's step filled from the directory or from the address search.

Picking is a button of the step's own form (so everything typed on the page is posted with
it and nothing is lost): the pick's values are written over the posted ones, then the step
is checked and saved as any other save. The values stay editable on the line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import QueryDict

from directory import selectors
from directory.addresses import Address
from directory.models import ADDRESS_FIELDS, CustomerSite, DirectoryContact, EndCustomer
from orders.steps import CONTACT_ENTRIES

if TYPE_CHECKING:
    from directory.selectors import User
    from orders.models import OrderLine

# The buttons: name -> what the value is.
USE_CUSTOMER = "directory_customer"
USE_CONTACT = "directory_contact"
ADD_CONTACT_ENTRY = "directory_contact_entry"
USE_SITE = "directory_site"
USE_ADDRESS = "address_pick"
ACTIONS = (USE_CUSTOMER, USE_CONTACT, ADD_CONTACT_ENTRY, USE_SITE, USE_ADDRESS)


def action(post: QueryDict) -> tuple[str, str] | None:
    for name in ACTIONS:
        if post.get(name):
            return name, str(post[name])
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def customer_values(customer: EndCustomer) -> dict[str, str]:
    values = {"end_customer_name": customer.name, "siret": customer.siret}
    for name in ("business_code", "billing_site_ref"):
        if getattr(customer, name):
            values[name] = getattr(customer, name)
    return values


def person_values(contact: DirectoryContact, prefix: str = "contact1") -> dict[str, str]:
    return {
        f"{prefix}_firstname": contact.firstname,
        f"{prefix}_lastname": contact.lastname,
        f"{prefix}_email_address": contact.email_address,
        f"{prefix}_phone_number": contact.phone_number,
    }


def site_values(site: CustomerSite) -> dict[str, str]:
    values = {name: _text(getattr(site, name)) for name in ADDRESS_FIELDS}
    if site.access_instructions:
        values["access_instructions"] = site.access_instructions
    return values


def _contact(user: User, raw: str) -> DirectoryContact:
    contact = selectors.visible_contacts(user).filter(pk=int(raw) if raw.isdigit() else 0).first()
    if contact is None:
        raise LookupError(raw)
    return contact


def apply(*, user: User, line: OrderLine, post: QueryDict) -> tuple[QueryDict, str]:
    """The posted data with the picked values written over it, and the action's name ("" when
    nothing was picked). Raises LookupError for an entry the user may not see."""
    picked = action(post)
    if picked is None:
        return post, ""
    name, raw = picked
    data = post.copy()
    values: dict[str, str] = {}
    if name == USE_CUSTOMER:
        customer = selectors.customer(raw)
        values = customer_values(customer)
        if customer.siret:
            values["siret_known"] = "on"
        else:
            data.pop("siret_known", None)
    elif name == USE_CONTACT:
        values = person_values(_contact(user, raw))
    elif name == ADD_CONTACT_ENTRY:
        contact = _contact(user, raw)
        total_key = f"{CONTACT_ENTRIES}-TOTAL_FORMS"
        if total_key not in data:
            raise LookupError(raw)
        number = int(data.get(total_key) or 0)
        for field, value in person_values(contact).items():
            values[f"{CONTACT_ENTRIES}-{number}-{field}"] = value
        values[f"{CONTACT_ENTRIES}-{number}-ORDER"] = str(number + 1)
        values[total_key] = str(number + 1)
    elif name == USE_SITE:
        owner = selectors.customer_for_line(line)
        if owner is None:
            raise LookupError(raw)
        values = site_values(selectors.site(owner, raw))
    elif name == USE_ADDRESS:
        address = Address.from_json(raw)
        if address is None:
            raise LookupError(raw)
        values = {field: _text(value) for field, value in address.site_values().items()}
    for field, value in values.items():
        data[field] = value
    return data, name
