from __future__ import annotations

from typing import Any

from django import template

from bulk import selectors
from orders.models import OrderSession

register = template.Library()


@register.filter
def get(mapping: Any, key: str) -> Any:
    """mapping[key], or "" (a row's value or problems by field name)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""


@register.inclusion_tag("bulk/partials/session_hint.html")
def import_hint(session: OrderSession, locked: bool = False) -> dict[str, Any]:
    """The session page's link to the import, and the uploads still in progress."""
    return selectors.hint_context(session, locked=locked)
