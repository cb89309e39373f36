"""Template helpers for markup that a strict Content-Security-Policy allows."""

from __future__ import annotations

import datetime as dt
import functools

from django import template
from django.forms import BoundField
from django.utils import formats, timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

SELECTED = mark_safe(" selected")


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


@register.simple_tag
def filter_select(field: BoundField) -> SafeString:
    """A list filter's <select> (a ChoiceField), marked up here rather than by Django's widget
    templates, which render one template per option and one per attribute list: 36 template
    renders for the sessions list's filters, a third of its rendering time under load (issue
    13). The field's label is the page's own <label for=...>."""
    value = field.value()
    current = "" if value is None else str(value)
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (choice, SELECTED if str(choice) == current else "", label)
            for choice, label in field.field.choices  # type: ignore[attr-defined]
        ),
    )
    return format_html(
        '<select name="{}" id="{}" class="form-select">{}</select>',
        field.html_name,
        field.id_for_label,
        options,
    )


@register.simple_tag
def time_tag(value: dt.date | None, format_name: str = "SHORT_DATETIME_FORMAT") -> SafeString | str:
    """A date or a moment as every page shows it: `<time datetime="ISO 8601">short, local
    and in the user's language</time>` (what `|date:'c'` and `|date:format_name` give, with
    one conversion to local time instead of two).

    Django's date formatting is slow (about 25 µs here) and the sessions list shows one per
    row, the same ones on every visit: each markup is kept, per value, format, language and
    time zone (all it depends on), for the most recent few thousand."""
    if value is None or value == "":
        return ""
    return _time_tag(
        value, format_name, translation.get_language(), timezone.get_current_timezone_name()
    )


@functools.lru_cache(maxsize=4096, typed=True)
def _time_tag(value: dt.date, format_name: str, language: str | None, zone: str) -> SafeString:
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_html(
        '<time datetime="{}">{}</time>', value.isoformat(), formats.date_format(value, format_name)
    )
