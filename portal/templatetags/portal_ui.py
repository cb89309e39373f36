"""Template helpers for markup that a strict Content-Security-Policy allows."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent_step(value: object, step: int = 5) -> int:
    """A percentage rounded to the nearest step and kept within 0-100, for the `w-pct-N` width
    classes of static/css/portal.css (a style="width: N%" attribute is refused by the CSP)."""
    try:
        percent = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
    stepped = int(step * round(percent / step))
    return max(0, min(100, stepped))
