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
from django.db import models
from django.utils.translation import gettext as _

from orders import catalogue
from orders.models import OrderLine, OrderSession
from orders.steps import CUSTOMER, PERSON_FIELDS, STEPS, Step, step_for_field

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
# The fields people fill, in the steps' order: their formats are checked with the checks
# their model declares (the forms run the same ones).
LINE_FIELDS = tuple(dict.fromkeys(name for step in STEPS for name in step.line_fields))
CONTACT_FIELDS = tuple(dict.fromkeys(name for step in STEPS for name in step.contact_fields))


@dataclass(frozen=True)
class Problem:
    line: OrderLine | None
    field: str
    step: Step | None
    message: str
    contact_index: int | None = None

    @property
    def label(self) -> str:
        """The field's label as the form shows it (orders.catalogue)."""
        if self.line is None:
            return ""
        return catalogue.label(self.field, contact=self.contact_index is not None)

    @property
    def label_with_entry(self) -> str:
        """The label, naming the contact entry after the first one, for the check page."""
        if not self.contact_index:
            return self.label
        return _("%(label)s (contact entry %(number)s)") % {
            "label": self.label,
            "number": self.contact_index + 1,
        }


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
        return [Problem(None, "lines", None, _("Add at least one line before confirming."))]
    problems: list[Problem] = []
    for line in lines:
        problems.extend(check_line(line))
    return problems


def _format_problems(
    instance: models.Model,
    names: Iterable[str],
    add: Callable[[str, str, int | None], None],
    contact_index: int | None = None,
) -> None:
    """A problem for each value its model field's checks refuse (the first message)."""
    for name in names:
        value = getattr(instance, name)
        if value in (None, "", []):
            continue
        try:
            catalogue.model_field(name, contact=contact_index is not None).run_validators(value)
        except ValidationError as exc:
            add(name, exc.messages[0], contact_index)


def check_line(line: OrderLine) -> list[Problem]:
    problems: list[Problem] = []

    def add(field: str, message: str, contact_index: int | None = None) -> None:
        step = step_for_field(field, contact_index=contact_index)
        problems.append(Problem(line, field, step, message, contact_index))

    for field in REQUIRED_LINE_FIELDS:
        if not getattr(line, field):
            add(field, _("Required: copy it from the eligibility result."))

    if is_dia(line):
        if line.enni:
            add("enni", _("Leave the ENNI empty for the DIA offer: Covage sets it."))
    elif not line.enni:
        add("enni", _("Choose the ENNI (collection port) the line is delivered on."))

    cpe_fields = ("cpe_networking_number", "cpe_serial_number")
    if has_cpe_option(line):
        for field in cpe_fields:
            if not getattr(line, field):
                add(field, _("Required with option %(option)s (CPE).") % {"option": CPE_OPTION})
    else:
        for field in cpe_fields:
            if getattr(line, field):
                add(
                    field,
                    _("Must be empty unless option %(option)s (CPE) is chosen.")
                    % {"option": CPE_OPTION},
                )

    _format_problems(line, LINE_FIELDS, add)

    contacts = sorted(line.contacts.all(), key=lambda c: c.position)
    if not contacts:
        problems.append(
            Problem(
                line,
                "end_customer_name",
                CUSTOMER,
                _("Enter the end customer and a contact."),
                0,
            )
        )
        return problems
    first = contacts[0]
    for field in REQUIRED_CONTACT_FIELDS:
        if not getattr(first, field):
            add(field, _("Required to confirm."), 0)
    if line.siret_known and not first.siret:
        add(
            "siret",
            _("Enter the SIRET number, or untick “%(siret_known)s”.")
            % {"siret_known": catalogue.label("siret_known")},
            0,
        )
    for index, contact in enumerate(contacts):
        # The entries after the first repeat its customer and site (orders.services.drafts):
        # only their people are their own.
        _format_problems(contact, CONTACT_FIELDS if index == 0 else PERSON_FIELDS, add, index)
    return problems
