"""Reads of the directory. Customers and sites are shared by the sales team; contacts are
personal data: a salesperson sees the ones they entered and the ones on their own lines
(an e-mail address of a contact entry of a line of theirs), the back office sees all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from directory import text
from directory.models import CustomerSite, DirectoryContact, DirectoryEvent, EndCustomer
from orders.models import LineContact, OrderLine
from portal.roles import is_back_office

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

SEARCH_LIMIT = 20


def search_customers(query: str, *, limit: int = SEARCH_LIMIT) -> list[EndCustomer]:
    """Customers whose name, SIRET, or a site's city or postcode matches `query` (without
    case or accents); every customer, by name, for an empty query."""
    queryset = EndCustomer.objects.prefetch_related(
        Prefetch("sites", queryset=CustomerSite.objects.order_by("postcode", "street_name"))
    )
    key = text.key(query)
    if key:
        digits = text.digits(query)
        condition = Q(search_key__contains=key) | Q(sites__city_key__contains=key)
        if digits and len(digits) == len(query.replace(" ", "")):
            condition |= Q(siret__startswith=digits) | Q(sites__postcode__startswith=digits)
        ids = EndCustomer.objects.filter(condition).values("pk").distinct()
        queryset = queryset.filter(pk__in=ids)
    return list(queryset.order_by("search_key", "pk")[:limit])


def customer(pk: object) -> EndCustomer:
    try:
        return EndCustomer.objects.get(pk=int(str(pk)))
    except (EndCustomer.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def customers_by_ids(ids: list[int]) -> list[EndCustomer]:
    return list(EndCustomer.objects.filter(pk__in=ids).prefetch_related("sites"))


def sites_of(customer: EndCustomer) -> list[CustomerSite]:
    return list(customer.sites.order_by("postcode", "street_name", "pk"))


def site(customer: EndCustomer, pk: object) -> CustomerSite:
    try:
        return customer.sites.get(pk=int(str(pk)))
    except (CustomerSite.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def visible_contacts(user: User) -> QuerySet[DirectoryContact]:
    contacts = DirectoryContact.objects.all()
    if is_back_office(user):
        return contacts
    own_lines = LineContact.objects.filter(
        line__session__owner_id=user.pk, line__deleted_at__isnull=True
    )
    on_own_line = own_lines.filter(
        Q(contact1_email_address__iexact=OuterRef("email_address"))
        | Q(contact2_email_address__iexact=OuterRef("email_address"))
    )
    return contacts.filter(Q(created_by_id=user.pk) | (~Q(email_address="") & Exists(on_own_line)))


def contacts_of(user: User, customer: EndCustomer) -> list[DirectoryContact]:
    return list(visible_contacts(user).filter(customer=customer).order_by("lastname", "pk"))


def contact(user: User, customer: EndCustomer, pk: object) -> DirectoryContact:
    try:
        return visible_contacts(user).get(customer=customer, pk=int(str(pk)))
    except (DirectoryContact.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def customer_for_line(line: OrderLine) -> EndCustomer | None:
    """The directory's entry of a line's customer: the one with its SIRET, else the one with
    its name (without case or accents)."""
    first = min(line.contacts.all(), key=lambda entry: entry.position, default=None)
    siret = first.siret if first else ""
    if siret:
        found = EndCustomer.objects.filter(siret=siret).first()
        if found:
            return found
    key = text.key(line.end_customer_name or (first.end_customer_name if first else ""))
    if not key:
        return None
    return EndCustomer.objects.filter(search_key=key).order_by("pk").first()


def customer_events(customer: EndCustomer) -> list[DirectoryEvent]:
    return list(customer.events.select_related("user")[:50])
