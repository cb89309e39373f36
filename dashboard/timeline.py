"""An order's production, as a timeline a salesperson reads at a glance.

Built from what the portal stored (the line's Covage dates, its production steps as the
tracking API gave them, the order's commitment); a held order is explained in words, with
what happens next. No query beyond the line's production steps (prefetch them for a list).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from covage import schemas
from dashboard.queues import DELIVERED_STATES
from orders.models import OrderLine

# The production steps Covage documents (the full list is not known: others are shown with
# the label Covage gave, or their code in words).
STEP_LABELS: dict[str, Promise] = {
    "production_manager_assigned": _("Production manager assigned"),
    "optical_route_received": _("Optical route received"),
    "technical_visit_planned": _("Technical visit planned"),
    "technical_visit_done": _("Technical visit done"),
    "works_planned": _("Works planned"),
    "works_done": _("Works done"),
    "delivery_planned": _("Delivery planned"),
    "delivered": _("Delivered"),
}

# Held orders: what it means and what happens next.
HELD_EXPLANATIONS: dict[str, tuple[Promise, Promise]] = {
    schemas.LINE_HELD_ADV_VALIDATION: (
        _("Covage's sales administration is checking this order before production starts."),
        _(
            "Nothing to do on your side: once it is validated, production starts and its "
            "steps appear here. If it stays held for more than five working days, ask your "
            "Covage account manager."
        ),
    ),
    schemas.LINE_TECHNICAL_ERROR: (
        _("Covage hit a technical error while creating this order."),
        _(
            "Covage's teams handle it and the portal keeps reading its state. If it has not "
            "moved within two working days, contact Covage support with the line's temporary "
            "reference."
        ),
    ),
    schemas.ORDER_PENDING_CANCELLATION: (
        _("Covage is cancelling this order."),
        _("The cancellation date and reason will show here once Covage confirms it."),
    ),
    schemas.ORDER_REJECTED_ADV: (
        _("Covage's sales administration rejected this order."),
        _("Ask your Covage account manager why, then order the line again if needed."),
    ),
}


def step_label(code: str, label: str = "") -> str:
    known = STEP_LABELS.get(code)
    if known is not None:
        return str(known)
    return label or code.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Milestone:
    label: str
    date: dt.datetime | dt.date | None
    done: bool
    kind: str = "step"  # step | order | delivered | cancelled


@dataclass
class Timeline:
    milestones: list[Milestone] = field(default_factory=list)
    commitment: str = ""
    state: str = ""
    held_reason: str = ""
    held_next: str = ""
    delivered: bool = False
    cancelled: bool = False

    @property
    def has_content(self) -> bool:
        return bool(self.milestones or self.held_reason or self.commitment)

    @property
    def last(self) -> Milestone | None:
        done = [m for m in self.milestones if m.done]
        return done[-1] if done else None


def held_state(line: OrderLine) -> str:
    """The state that holds the order, if one does (the order's state first)."""
    for state in (line.tracking_state, line.remote_state):
        if state in HELD_EXPLANATIONS:
            return state
    return ""


def timeline(line: OrderLine) -> Timeline:
    result = Timeline(commitment=line.commitment, state=line.tracking_state or line.remote_state)
    if line.order_date:
        result.milestones.append(
            Milestone(gettext("Ordered (Covage's order date)"), line.order_date, True, "order")
        )
    if line.completion_date:
        result.milestones.append(
            Milestone(
                gettext("Order created at Covage (completion date)"),
                line.completion_date,
                True,
                "order",
            )
        )
    for step in line.production_steps.all():
        result.milestones.append(Milestone(step_label(step.code, step.label), step.date, True))
    result.delivered = line.tracking_state in DELIVERED_STATES
    if result.delivered:
        result.milestones.append(
            Milestone(
                gettext("Delivered: the service is active"), line.delivered_at, True, "delivered"
            )
        )
    elif line.order_reference and line.tracking_state not in schemas.ORDER_FINAL_STATES:
        result.milestones.append(Milestone(gettext("Delivery"), None, False, "delivered"))
    if line.cancellation_date:
        result.cancelled = True
        text = gettext("Cancelled")
        if line.cancellation_reason:
            text = gettext("Cancelled: %(reason)s") % {"reason": line.cancellation_reason}
        result.milestones.append(Milestone(text, line.cancellation_date, True, "cancelled"))
    state = held_state(line)
    if state:
        reason, next_step = HELD_EXPLANATIONS[state]
        result.held_reason, result.held_next = str(reason), str(next_step)
    return result
