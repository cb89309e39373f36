"""Saving the customer typed on a line to the directory, in one action: the customer, the
line's site and the people of its contact entries. A customer already in the directory (the
same SIRET, or the same name with a site at the same postcode) is offered instead of a copy;
saving "into" it adds the site and contacts it does not have yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from directory import text
from directory.models import (
    ADDRESS_FIELDS,
    CustomerSite,
    DirectoryContact,
    DirectoryEvent,
    EndCustomer,
)
from directory.services.entries import (
    DuplicateCustomer,
    add_contact,
    add_site,
    create_customer,
    find_duplicates,
    record,
)
from orders.models import LineContact, OrderLine

if TYPE_CHECKING:
    from directory.services.entries import User


@dataclass
class SavedFromLine:
    customer: EndCustomer
    created: bool
    sites: list[CustomerSite] = field(default_factory=list)
    contacts: list[DirectoryContact] = field(default_factory=list)


def _entries(line: OrderLine) -> list[LineContact]:
    return sorted(line.contacts.all(), key=lambda entry: entry.position)


def line_customer_values(line: OrderLine) -> dict[str, Any]:
    entries = _entries(line)
    first = entries[0] if entries else None
    return {
        "name": line.end_customer_name or (first.end_customer_name if first else ""),
        "siret": first.siret if first else "",
        "business_code": line.business_code,
        "billing_site_ref": line.billing_site_ref,
    }


def line_site_values(line: OrderLine) -> dict[str, Any] | None:
    entries = _entries(line)
    if not entries or not (entries[0].street_name or entries[0].postcode):
        return None
    values = {name: getattr(entries[0], name) for name in ADDRESS_FIELDS}
    values["access_instructions"] = line.access_instructions
    return values


def line_people(line: OrderLine) -> list[dict[str, Any]]:
    """The people of every contact entry (its on-site and its second contact), in order."""
    people = []
    for entry in _entries(line):
        for prefix in ("contact1", "contact2"):
            person = {
                "firstname": getattr(entry, f"{prefix}_firstname"),
                "lastname": getattr(entry, f"{prefix}_lastname"),
                "email_address": getattr(entry, f"{prefix}_email_address"),
                "phone_number": getattr(entry, f"{prefix}_phone_number"),
            }
            if any(person.values()):
                people.append(person)
    return people


def _same_site(site: CustomerSite, values: dict[str, Any]) -> bool:
    return (
        site.postcode == values["postcode"]
        and text.key(site.street_name) == text.key(values["street_name"])
        and site.street_number == values["street_number"]
        and text.key(site.street_number_extension) == text.key(values["street_number_extension"])
    )


def _same_person(contact: DirectoryContact, person: dict[str, Any]) -> bool:
    if person["email_address"] and contact.email_address:
        return contact.email_address.lower() == person["email_address"].lower()
    return text.key(f"{contact.firstname} {contact.lastname}") == text.key(
        f"{person['firstname']} {person['lastname']}"
    )


@transaction.atomic
def save_line_customer(
    *, user: User, line: OrderLine, into: EndCustomer | None = None
) -> SavedFromLine:
    """Save the line's customer, site and people. Without `into`, a customer that would be
    a duplicate raises DuplicateCustomer (offering the existing ones); with `into`, the site
    and the people it lacks are added to that customer."""
    values = line_customer_values(line)
    site_values = line_site_values(line)
    created = into is None
    if into is None:
        postcodes = [site_values["postcode"]] if site_values else []
        customer = create_customer(user=user, values=values, postcodes=postcodes)
    else:
        customer = EndCustomer.objects.select_for_update().get(pk=into.pk)
    result = SavedFromLine(customer=customer, created=created)
    if site_values and not any(_same_site(site, site_values) for site in customer.sites.all()):
        result.sites.append(add_site(user=user, customer=customer, values=site_values))
    known = list(customer.contacts.all())
    for person in line_people(line):
        if not any(_same_person(contact, person) for contact in known):
            contact = add_contact(user=user, customer=customer, values=person)
            known.append(contact)
            result.contacts.append(contact)
    record(
        user=user,
        action=DirectoryEvent.Action.SAVED_FROM_LINE,
        entry=customer,
        detail=str(line.session.external_id),
    )
    return result


__all__ = ["DuplicateCustomer", "SavedFromLine", "find_duplicates", "save_line_customer"]
