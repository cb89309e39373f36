"""Creating, changing, merging and deleting directory entries, each with its author in the
history (DirectoryEvent). Merging and deleting are the back office's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from directory import text
from directory.models import (
    ADDRESS_FIELDS,
    CustomerSite,
    DirectoryContact,
    DirectoryEvent,
    EndCustomer,
)
from orders import validators
from portal.roles import is_back_office

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

Entry = EndCustomer | CustomerSite | DirectoryContact


class DirectoryError(Exception):
    """A refusal; str() is the message to show."""


class NotAllowed(DirectoryError):
    def __init__(self) -> None:
        super().__init__(_("Only the back office can merge or delete directory entries."))


class InvalidEntry(DirectoryError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(message for messages in errors.values() for message in messages))
        self.errors = errors


class DuplicateCustomer(DirectoryError):
    """The customer is already in the directory: the existing entries are offered instead."""

    def __init__(self, existing: list[EndCustomer]) -> None:
        super().__init__(
            _("This end customer is already in the directory: use the existing entry.")
        )
        self.existing = existing


# A site or a contact: the entries that belong to one customer.
CustomerEntry = TypeVar("CustomerEntry", CustomerSite, DirectoryContact)

CUSTOMER_FIELDS = ("name", "siret", "business_code", "billing_site_ref")
SITE_FIELDS = (*ADDRESS_FIELDS, "access_instructions")
CONTACT_FIELDS = ("firstname", "lastname", "email_address", "phone_number")
EDITABLE = {
    EndCustomer: CUSTOMER_FIELDS,
    CustomerSite: SITE_FIELDS,
    DirectoryContact: CONTACT_FIELDS,
}
KINDS = {
    EndCustomer: DirectoryEvent.Kind.CUSTOMER,
    CustomerSite: DirectoryEvent.Kind.SITE,
    DirectoryContact: DirectoryEvent.Kind.CONTACT,
}


def _author(user: User | None) -> Any:
    return user if user is not None and user.is_authenticated else None


def _customer_of(entry: Entry) -> EndCustomer:
    return entry if isinstance(entry, EndCustomer) else entry.customer


def _labels(model: type[models.Model], names: Iterable[str]) -> list[str]:
    """The fields' labels as English msgids, translated when the history is shown."""
    from django.utils import translation

    with translation.override(None):
        return [str(model._meta.get_field(name).verbose_name) for name in names]  # type: ignore[union-attr]


def record(
    *,
    user: User | None,
    action: str,
    entry: Entry,
    fields: Iterable[str] = (),
    detail: str = "",
) -> DirectoryEvent:
    customer = _customer_of(entry)
    return DirectoryEvent.objects.create(
        user=_author(user),
        action=action,
        kind=KINDS[type(entry)],
        customer=customer if customer.pk else None,
        customer_name=customer.name,
        object_id=entry.pk,
        fields=_labels(type(entry), fields),
        detail=detail[:255],
    )


def _normalised(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, Any]:
    allowed = EDITABLE[model]  # type: ignore[index,unused-ignore]
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"Not fields of a directory entry: {sorted(unknown)}")
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if name == "siret" and value:
            value = validators.normalise_siret(value)
        elif name == "postcode" and value:
            value = validators.normalise_postcode(value)
        elif name == "insee_code" and value:
            value = validators.normalise_insee_code(value)
        elif name == "phone_number" and value:
            value = validators.normalise_phone_number(value)
        elif name == "email_address":
            value = value.lower()
        elif name in ("latitude", "longitude") and value == "":
            value = None
        cleaned[name] = value
    return cleaned


def _filled(values: Mapping[str, Any]) -> list[str]:
    return [name for name, value in values.items() if value not in ("", None)]


def _check(instance: models.Model) -> None:
    try:
        instance.full_clean(exclude=["customer", "created_by"])
    except ValidationError as exc:
        raise InvalidEntry(exc.message_dict) from exc


def find_duplicates(
    *, name: str, siret: str = "", postcodes: Iterable[str] = (), exclude: int | None = None
) -> list[EndCustomer]:
    """Customers that would be the same one: the same SIRET, or the same name (without case
    and accents) with a site at one of `postcodes`."""
    condition = Q(pk__in=[])
    siret = text.digits(siret)
    if siret:
        condition |= Q(siret=siret)
    postcodes = [code for code in postcodes if code]
    name_key = text.key(name)
    if name_key and postcodes:
        condition |= Q(search_key=name_key, sites__postcode__in=postcodes)
    queryset = EndCustomer.objects.filter(condition)
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return list(queryset.distinct().order_by("search_key", "pk"))


@transaction.atomic
def create_customer(
    *, user: User | None, values: Mapping[str, Any], postcodes: Iterable[str] = ()
) -> EndCustomer:
    """A new customer, unless it would duplicate one (DuplicateCustomer offers it)."""
    cleaned = _normalised(EndCustomer, values)
    if not cleaned.get("name"):
        raise InvalidEntry({"name": [_("Enter the end customer's name.")]})
    existing = find_duplicates(
        name=cleaned["name"], siret=cleaned.get("siret", ""), postcodes=postcodes
    )
    if existing:
        raise DuplicateCustomer(existing)
    customer = EndCustomer(created_by=_author(user), **cleaned)
    _check(customer)
    customer.save()
    record(user=user, action=DirectoryEvent.Action.CREATED, entry=customer, fields=_filled(cleaned))
    return customer


def _add_to_customer(
    model: type[CustomerEntry],
    *,
    user: User | None,
    customer: EndCustomer,
    values: Mapping[str, Any],
) -> CustomerEntry:
    entry = model(customer=customer, created_by=_author(user), **_normalised(model, values))
    _check(entry)
    entry.save()
    record(user=user, action=DirectoryEvent.Action.CREATED, entry=entry, fields=_filled(values))
    return entry


@transaction.atomic
def add_site(
    *, user: User | None, customer: EndCustomer, values: Mapping[str, Any]
) -> CustomerSite:
    return _add_to_customer(CustomerSite, user=user, customer=customer, values=values)


@transaction.atomic
def add_contact(
    *, user: User | None, customer: EndCustomer, values: Mapping[str, Any]
) -> DirectoryContact:
    return _add_to_customer(DirectoryContact, user=user, customer=customer, values=values)


@transaction.atomic
def update_entry(*, user: User | None, entry: Entry, values: Mapping[str, Any]) -> Entry:
    """Change an entry's values; the history names the fields changed, never their values.
    A customer given the SIRET of another is refused (merge them instead)."""
    model = type(entry)
    locked = model.objects.select_for_update().get(pk=entry.pk)
    changed = []
    for name, value in _normalised(model, values).items():
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name)
    if not changed:
        return locked
    if (
        isinstance(locked, EndCustomer)
        and "siret" in changed
        and locked.siret
        and EndCustomer.objects.filter(siret=locked.siret).exclude(pk=locked.pk).exists()
    ):
        raise InvalidEntry(
            {"siret": [_("Another end customer has this SIRET: merge the two instead.")]}
        )
    _check(locked)
    locked.save()
    record(user=user, action=DirectoryEvent.Action.CHANGED, entry=locked, fields=changed)
    return locked


def _back_office_only(user: User | None) -> None:
    if user is None or not is_back_office(user):
        raise NotAllowed()


@transaction.atomic
def delete_entry(*, user: User | None, entry: Entry) -> None:
    """Back office only. Deleting a customer deletes its sites and contacts."""
    _back_office_only(user)
    if isinstance(entry, EndCustomer):
        for site in entry.sites.all():
            record(user=user, action=DirectoryEvent.Action.DELETED, entry=site)
        for contact in entry.contacts.all():
            record(user=user, action=DirectoryEvent.Action.DELETED, entry=contact)
    # A contact's name is personal data: its history keeps no trace of it once deleted.
    detail = "" if isinstance(entry, DirectoryContact) else str(entry)
    record(user=user, action=DirectoryEvent.Action.DELETED, entry=entry, detail=detail)
    entry.delete()


@transaction.atomic
def merge_customers(
    *, user: User | None, keep: EndCustomer, others: Iterable[EndCustomer]
) -> EndCustomer:
    """Back office only: the sites and contacts of `others` move to `keep`, whose empty
    values take theirs; `others` are deleted. The history of each names the other."""
    _back_office_only(user)
    keep = EndCustomer.objects.select_for_update().get(pk=keep.pk)
    filled: list[str] = []
    for other in others:
        if other.pk == keep.pk:
            continue
        other.sites.update(customer=keep)
        other.contacts.update(customer=keep)
        DirectoryEvent.objects.filter(customer=other).update(customer=keep)
        for name in ("business_code", "billing_site_ref"):
            if not getattr(keep, name) and getattr(other, name):
                setattr(keep, name, getattr(other, name))
                filled.append(name)
        removed_siret = other.siret
        detail = f"{other.name} (#{other.pk})"
        other.delete()
        if not keep.siret and removed_siret:
            keep.siret = removed_siret
            filled.append("siret")
        record(user=user, action=DirectoryEvent.Action.MERGED, entry=keep, fields=(), detail=detail)
    if filled:
        keep.save()
    return keep
