"""Covage's referentials the forms offer as choices: projects and ENNIs (collection ports).

Read from the store only (`ReferentialSnapshot`), which a background task fills
(orders.services.referentials: every 15 minutes by beat, and when a worker starts with nothing
stored). No page, form or request ever opens a connection to Covage (DESIGN.md, data flow 7).
Until the first list is stored the result says so (`available=False`), and the form takes a
typed value instead, with a help text that says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.models import ReferentialSnapshot

OFFER_FAMILIES_WITH_ENNIS = ("BPE", "BPEA")

PROJECTS_UNAVAILABLE = gettext_lazy(
    "Covage's list of projects is not available yet: type the project code."
)
ENNIS_UNAVAILABLE = gettext_lazy(
    "Covage's list of ENNIs is not available yet: type the ENNI reference."
)
DELIVERY_MODES_UNAVAILABLE = gettext_lazy(
    "Covage's list of delivery modes is not available yet: type the delivery mode."
)


@dataclass(frozen=True)
class ProjectChoice:
    code: str
    label: str


@dataclass(frozen=True)
class EnniChoice:
    reference: str
    label: str
    offer: str
    delivery_mode: str


@dataclass(frozen=True)
class Referential:
    """A stored list. `available` is False before the first refresh stored it, so that the
    form shows a free-text input; `refreshed_at` is when Covage last gave it."""

    items: list[Any] = field(default_factory=list)
    available: bool = True
    refreshed_at: dt.datetime | None = None


def _stored(name: str) -> tuple[list[dict[str, Any]], dt.datetime | None]:
    row = (
        ReferentialSnapshot.objects.filter(name=name, refreshed_at__isnull=False)
        .values_list("items", "refreshed_at")
        .first()
    )
    if row is None:
        return [], None
    items, refreshed_at = row
    return [item for item in items or [] if isinstance(item, dict)], refreshed_at


def _project_label(item: dict[str, Any]) -> str:
    code = str(item.get("code", ""))
    try:
        end = dt.date.fromisoformat(str(item.get("end_date") or ""))
    except ValueError:
        return code
    return _("%(code)s (until %(date)s)") % {"code": code, "date": date_format(end, "d/m/Y")}


def projects() -> Referential:
    """The customer's active projects, as last stored."""
    items, refreshed_at = _stored(ReferentialSnapshot.Name.PROJECTS)
    if refreshed_at is None:
        return Referential([], available=False)
    choices = [
        ProjectChoice(str(item["code"]), _project_label(item)) for item in items if item.get("code")
    ]
    return Referential(choices, refreshed_at=refreshed_at)


def all_ennis() -> Referential:
    """Every active ENNI of the customer, as last stored."""
    items, refreshed_at = _stored(ReferentialSnapshot.Name.ENNIS)
    if refreshed_at is None:
        return Referential([], available=False)
    choices = [
        EnniChoice(
            str(item["reference"]),
            str(item.get("label") or item["reference"]),
            str(item.get("offer", "")),
            str(item.get("delivery_mode", "")),
        )
        for item in items
        if item.get("reference")
    ]
    return Referential(choices, refreshed_at=refreshed_at)


def ennis(
    *, offer_family: str = "", delivery_mode: str = "", stored: Referential | None = None
) -> Referential:
    """The ENNIs a line may use: those of its offer family (BPE or BPEA; any other family,
    or none yet, is not filtered) and of the chosen delivery mode (none chosen: all).
    `stored` is `all_ennis()` when the caller has it already."""
    referential = stored or all_ennis()
    items = referential.items
    family = offer_family.strip().upper()
    if family in OFFER_FAMILIES_WITH_ENNIS:
        items = [enni for enni in items if enni.offer == family]
    if delivery_mode:
        items = [enni for enni in items if enni.delivery_mode == delivery_mode]
    return Referential(items, referential.available, referential.refreshed_at)


def delivery_modes(*, offer_family: str = "", stored: Referential | None = None) -> Referential:
    """The distinct delivery modes of the ENNIs (of the offer family, when it has ENNIs)."""
    referential = ennis(offer_family=offer_family, stored=stored)
    modes = sorted({enni.delivery_mode for enni in referential.items if enni.delivery_mode})
    return Referential(modes, referential.available, referential.refreshed_at)
