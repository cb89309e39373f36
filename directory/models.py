"""The directory of end customers: who the lines are for, where their sites are, and whom to
call there. Customers and sites are shared by the sales team; contacts are personal data,
seen by the salesperson who entered them, by those who have them on their own lines, and by
the back office (directory.selectors).

Every write goes through directory.services, which records a DirectoryEvent with its author.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from directory import text
from orders import steps, validators
from orders.models import LineContact, OrderLine

# The address fields of a site: those of the line's address step (its LineContact fields),
# so that a site fills a line and a line fills a site field by field.
ADDRESS_FIELDS = steps.ADDRESS.contact_fields


def _line_field(model: type[models.Model], name: str) -> models.Field:
    """The line's own declaration of a field (label, help, length, validators: one catalogue,
    orders.catalogue), for the directory entry that fills it."""
    return model._meta.get_field(name).clone()  # type: ignore[union-attr]


class DirectoryEntry(models.Model):
    """Who entered an entry, and when (the history, DirectoryEvent, says who changed it)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class EndCustomer(DirectoryEntry):
    name = models.CharField(_("End customer name"), max_length=255)
    siret = _line_field(LineContact, "siret")
    business_code = _line_field(OrderLine, "business_code")
    billing_site_ref = _line_field(OrderLine, "billing_site_ref")
    # The name without case, accents or punctuation (directory.text.key): what searches and
    # the duplicate check compare.
    search_key = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        verbose_name = _("end customer")
        verbose_name_plural = _("end customers")
        ordering = ["search_key", "pk"]
        indexes = [models.Index(fields=["siret"], name="directory_customer_siret")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_key = text.key(self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class CustomerSite(DirectoryEntry):
    customer = models.ForeignKey(
        EndCustomer, on_delete=models.CASCADE, related_name="sites", verbose_name=_("end customer")
    )
    street_number = _line_field(LineContact, "street_number")
    street_number_extension = _line_field(LineContact, "street_number_extension")
    street_name = _line_field(LineContact, "street_name")
    building_name = _line_field(LineContact, "building_name")
    level_number = _line_field(LineContact, "level_number")
    postcode = _line_field(LineContact, "postcode")
    city = _line_field(LineContact, "city")
    insee_code = _line_field(LineContact, "insee_code")
    latitude = _line_field(LineContact, "latitude")
    longitude = _line_field(LineContact, "longitude")
    access_instructions = _line_field(OrderLine, "access_instructions")
    city_key = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        verbose_name = _("customer site")
        verbose_name_plural = _("customer sites")
        ordering = ["customer", "postcode", "street_name", "pk"]
        indexes = [models.Index(fields=["postcode"], name="directory_site_postcode")]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: object, **kwargs: object) -> None:
        self.city_key = text.key(self.city)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        street = " ".join(
            part
            for part in (self.street_number, self.street_number_extension, self.street_name)
            if part
        )
        town = " ".join(part for part in (self.postcode, self.city) if part)
        return ", ".join(part for part in (street, town) if part) or gettext("Site")


class DirectoryContact(DirectoryEntry):
    """A person to call about a customer's sites: personal data (directory.selectors)."""

    customer = models.ForeignKey(
        EndCustomer,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("end customer"),
    )
    firstname = models.CharField(_("First name"), max_length=100, blank=True)
    lastname = models.CharField(_("Last name"), max_length=100, blank=True)
    email_address = models.EmailField(_("E-mail"), blank=True)
    phone_number = models.CharField(
        _("Phone"), max_length=20, blank=True, validators=[validators.validate_phone_number]
    )

    class Meta:
        verbose_name = _("directory contact")
        verbose_name_plural = _("directory contacts")
        ordering = ["customer", "lastname", "firstname", "pk"]
        indexes = [
            models.Index(fields=["email_address"], name="directory_contact_email"),
            models.Index(fields=["created_by"], name="directory_contact_author"),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.firstname, self.lastname) if part) or (
            self.email_address or gettext("Contact")
        )


class DirectoryEvent(models.Model):
    """Who changed what in the directory, and when. It names the entry and the fields
    changed (their labels' msgids), never a contact's values: the history is kept after a
    contact is deleted, and must not keep its personal data."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        SAVED_FROM_LINE = "saved_from_line", _("Saved from a line")
        MERGED = "merged", _("Merged")
        DELETED = "deleted", _("Deleted")

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("end customer")
        SITE = "site", _("customer site")
        CONTACT = "contact", _("directory contact")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    kind = models.CharField(_("entry"), max_length=10, choices=Kind.choices)
    # The customer the entry belongs to (kept null once it is deleted: `customer_name` stays).
    customer = models.ForeignKey(
        EndCustomer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("end customer"),
    )
    customer_name = models.CharField(_("end customer name"), max_length=255, blank=True)
    object_id = models.PositiveIntegerField(_("entry id"), null=True, blank=True)
    fields = models.JSONField(_("fields changed"), default=list, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("directory history event")
        verbose_name_plural = _("directory history")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.get_kind_display()} · {self.customer_name}"

    @property
    def fields_text(self) -> str:
        return ", ".join(gettext(name) for name in self.fields)
