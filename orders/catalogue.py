"""The catalogue of the fields people fill on a line: one declaration per field, found by name.

A line field (OrderLine) or a contact field (LineContact) is declared once, on its model: its
label (verbose_name), help text, length and format checks. Everything that shows a field to a
person finds that declaration here, by the field's name: the step forms (orders/forms.py), the
check page (orders/confirmation.py), Covage's field errors and rejection reasons, the history.
So a field reads the same everywhere, in every language.

A field that exists on a form only (typed there, stored in another field) is declared here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from orders.models import LineContact, OrderLine

if TYPE_CHECKING:
    ModelField = models.Field[Any, Any]


def _form_only(name: str, field: ModelField) -> ModelField:
    field.set_attributes_from_name(name)
    return field


# Typed on a form, stored elsewhere: the other option ids go into the line's `option_ids`.
FORM_ONLY_FIELDS: dict[str, ModelField] = {
    "other_option_ids": _form_only(
        "other_option_ids",
        models.CharField(
            _("Other option identifiers"),
            max_length=255,
            blank=True,
            help_text=_("Any other option ids, separated by commas, for example 7010, 7033."),
        ),
    ),
}


class UnknownField(LookupError):
    """Not a field of a line, of its contact entries, or of the forms."""


def model_field(name: str, *, contact: bool = False) -> ModelField:
    """The declaration of the field `name`: the line's, else the contact entry's (the
    contact entry's first with `contact`: both have an `end_customer_name`), else a form-only
    field's. Raises UnknownField for any other name."""
    for model in (LineContact, OrderLine) if contact else (OrderLine, LineContact):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if isinstance(field, models.Field):
            return field
    if name in FORM_ONLY_FIELDS:
        return FORM_ONLY_FIELDS[name]
    raise UnknownField(name)


def is_known(name: str) -> bool:
    try:
        model_field(name)
    except UnknownField:
        return False
    return True


def label(name: str, *, contact: bool = False) -> str:
    """The field's label, in the active language, as every page shows it. A name that is no
    field of ours (a path Covage invented) still reads as words."""
    try:
        field = model_field(name, contact=contact)
    except UnknownField:
        return name.replace("_", " ").capitalize()
    return capfirst(str(field.verbose_name))


def help_text(name: str, *, contact: bool = False) -> str:
    try:
        return str(model_field(name, contact=contact).help_text)
    except UnknownField:
        return ""


def validators(name: str, *, contact: bool = False) -> list[Callable[[Any], None]]:
    """The format checks declared on the field (SIRET, postcode, VLAN range, ...): not the
    ones every field of its kind has (length, e-mail syntax), which a form field brings too."""
    # `_validators` holds exactly what the declaration's validators=[...] listed.
    return list(getattr(model_field(name, contact=contact), "_validators", []))


def error_messages(name: str, *, contact: bool = False) -> dict[str, Any]:
    """The messages the declaration sets (error_messages={...}), without Django's defaults:
    a form field keeps its own defaults, written for what a person types."""
    field = model_field(name, contact=contact)
    defaults: dict[str, Any] = {}
    for klass in reversed(type(field).__mro__):
        defaults.update(getattr(klass, "default_error_messages", {}))
    return {
        code: message
        for code, message in field.error_messages.items()
        if defaults.get(code) is not message
    }


def empty_value(name: str) -> Any:
    """What the field holds when nothing was typed: None, "" or [] as its column stores it."""
    return model_field(name).get_default()
