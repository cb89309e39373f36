"""The badges of a session's or a line's state, on every list and page that shows one.

Tags rather than included templates: the sessions list shows two per row, and an include
costs a template render each (the list under load, issue 13). A badge's markup depends only
on its value and the language, so each is built once per process and language.
"""

from __future__ import annotations

import functools

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from orders.models import SyncStatus

register = template.Library()

# Covage's own states, by the colour that says how they stand.
STATE_BADGE_CLASSES = {
    **dict.fromkeys(
        ("rejected_creation", "rejected", "technical_error", "cancelled"), "text-bg-danger"
    ),
    **dict.fromkeys(("completed", "acknowledged", "active"), "text-bg-success"),
    **dict.fromkeys(("partial", "held_adv_validation"), "text-bg-warning"),
    "in_progress": "text-bg-info",
}
# Our sync statuses that are still under way show a spinner.
SYNC_IN_PROGRESS: frozenset[str] = frozenset({SyncStatus.SYNCING, SyncStatus.CONFIRMING})
SYNC_BADGE_CLASSES: dict[str, str] = {
    **dict.fromkeys(SYNC_IN_PROGRESS, "text-bg-info"),
    **dict.fromkeys((SyncStatus.SYNCED, SyncStatus.CONFIRMED), "text-bg-success"),
    SyncStatus.SYNC_FAILED: "text-bg-danger",
}
SYNC_STATUSES = frozenset(SyncStatus.values)


@register.simple_tag
def state_badge(state: str) -> SafeString:
    """Covage's state, shown verbatim: it is Covage's vocabulary, not ours."""
    return _state_badge(state, get_language())


@register.simple_tag
def sync_badge(status: str) -> SafeString:
    """Our sync status (a session's or a line's), in the user's words."""
    return _sync_badge(status, get_language())


# `language` is part of the key (the words are translated). Covage's states are a short list,
# ours shorter: the bound only guards against surprises.
@functools.lru_cache(maxsize=256)
def _state_badge(state: str, language: str | None) -> SafeString:
    if not state:
        return format_html(
            '<span class="small text-body-secondary">{}</span>', _("not at Covage yet")
        )
    return format_html(
        '<span class="badge {}">{}</span>',
        STATE_BADGE_CLASSES.get(state, "text-bg-secondary"),
        state,
    )


@functools.lru_cache(maxsize=256)
def _sync_badge(status: str, language: str | None) -> SafeString:
    # The label is read from SyncStatus directly: get_sync_status_display rebuilds the
    # field's choices on every call.
    label = SyncStatus(status).label if status in SYNC_STATUSES else status
    css = SYNC_BADGE_CLASSES.get(status, "text-bg-secondary")
    if status in SYNC_IN_PROGRESS:
        return format_html(
            '<span class="badge {}"><span class="spinner-border spinner-border-sm spinner-badge '
            'me-1" aria-hidden="true"></span>{}</span>',
            css,
            label,
        )
    return format_html('<span class="badge {}">{}</span>', css, label)
