"""Covage's termination errors in words, each tied to the field and step that fixes it.

The codes below are the ones seen from the sandbox; Covage's real list is not documented, so
any other code is still shown, with its field, in a generic sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from orders import catalogue
from orders.models import LineTerminationError
from orders.steps import Step, split_property_path, step_for_field

_MESSAGES = {
    "required": "{label} is missing: Covage needs it to create the order.",
    "siret_required_when_known": "{label} is missing although “SIRET known” is ticked.",
    "cpe_required_with_option_7021": "{label} is required with option 7021 (CPE).",
    "cpe_forbidden_without_option_7021": "{label} must be empty without option 7021 (CPE).",
}


@dataclass(frozen=True)
class Explanation:
    message: str
    field: str
    step: Step
    contact_index: int | None


def field_label(field: str, contact_index: int | None) -> str:
    # The one catalogue of labels (orders/catalogue.py), as the forms and the check page say.
    return catalogue.label(field, contact=contact_index is not None)


def explain(error: LineTerminationError) -> Explanation:
    field, index = split_property_path(error.property_path)
    label = field_label(field, index)
    template = _MESSAGES.get(error.code)
    if template:
        message = template.format(label=label[:1].upper() + label[1:])
    else:
        value = f" (value: {error.value})" if error.value else ""
        message = f"Covage refused {label.lower()}{value}: {error.code.replace('_', ' ')}."
    return Explanation(message, field, step_for_field(field, contact_index=index), index)
