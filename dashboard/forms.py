"""The filters of the list of lines: every one a GET parameter, so a filtered list is a URL
that can be bookmarked and shared."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard import queues
from dashboard.selectors import DEFAULT_SORT

# Covage's own state names, shown as Covage writes them (as everywhere in the portal).
LINE_STATES = (
    "created",
    "in_progress",
    "acknowledged",
    "held_adv_validation",
    "rejected_creation",
    "technical_error",
)
ORDER_STATES = ("confirmed", "in_progress", "active", "cancelled", "rejected", "terminated")
STATE_CHOICES: list[tuple[Any, Any]] = [
    ("", _("Any state")),
    (_("Line state at Covage"), [(state, state) for state in LINE_STATES]),
    (_("Order state"), [(state, state) for state in ORDER_STATES if state != "in_progress"]),
]

SORT_CHOICES = [
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
    ("customer", _("Customer A→Z")),
    ("-customer", _("Customer Z→A")),
    ("city", _("City")),
    ("state", _("Covage state")),
    ("-order_date", _("Order date, newest first")),
    ("order_date", _("Order date, oldest first")),
    ("order_reference", _("Order reference")),
]


def queue_choices() -> list[tuple[str, Any]]:
    return [
        ("", _("All lines")),
        *queues.LINE_QUEUES.items(),
        *queues.SESSION_QUEUES.items(),
    ]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class LineFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    queue = forms.ChoiceField(label=_("Show"), required=False, choices=queue_choices)
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATE_CHOICES)
    offer = forms.CharField(
        label=_("Offer"),
        required=False,
        max_length=64,
        help_text=_("Family, technology or offering id, e.g. BPE."),
    )
    customer = forms.CharField(label=_("Customer"), required=False, max_length=100)
    city = forms.CharField(label=_("City"), required=False, max_length=100)
    order_reference = forms.CharField(label=_("Order reference"), required=False, max_length=64)
    created_from = forms.DateField(label=_("Created from"), required=False, widget=DateInput())
    created_to = forms.DateField(label=_("Created until"), required=False, widget=DateInput())
    ordered_from = forms.DateField(label=_("Ordered from"), required=False, widget=DateInput())
    ordered_to = forms.DateField(label=_("Ordered until"), required=False, widget=DateInput())
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=SORT_CHOICES, initial=DEFAULT_SORT
    )

    def filters(self) -> dict[str, Any]:
        """The valid filters; a wrong value (a mistyped date in a URL) is left out and shown
        on its field, never a 500."""
        if self.is_valid():
            return self.cleaned_data
        return {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if name not in self.errors
        }
