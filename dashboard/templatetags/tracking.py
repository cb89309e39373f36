from __future__ import annotations

from typing import Any

from django import template

from dashboard.timeline import held_state, timeline
from orders.models import OrderLine

register = template.Library()


@register.inclusion_tag("dashboard/partials/timeline.html")
def tracking_timeline(line: OrderLine, compact: bool = False) -> dict[str, Any]:
    """The production timeline of a line (its steps should be prefetched in a list)."""
    return {"line": line, "timeline": timeline(line), "compact": compact}


@register.filter
def has_tracking(line: OrderLine) -> bool:
    """True for a line that became an order, or is held on its way to becoming one."""
    return bool(line.order_reference or line.tracking_state or held_state(line))
