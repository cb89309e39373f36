from __future__ import annotations

from typing import Any

from django import template

from dashboard.timeline import timeline
from orders.models import OrderLine

register = template.Library()


@register.inclusion_tag("dashboard/partials/timeline.html")
def tracking_timeline(line: OrderLine, compact: bool = False) -> dict[str, Any]:
    """The production timeline of a line (its steps should be prefetched in a list)."""
    return {"line": line, "timeline": timeline(line), "compact": compact}
