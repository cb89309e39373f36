"""Texts that the reconciliation stores, kept language-neutral and written in the reader's
language when shown.

A worker compares exports with no reader in front of it, and a difference resolved by one
person is read by others, each in their own language. So nothing translated is stored: a
difference keeps a *code* for what was done and its parameters (``resolution_code``,
``resolution_params``); a comparison keeps its error's code and parameters in its summary
(``error_code``, ``error_params``); a value difference keeps the export's column, whose label
is the model field's own. The English text is stored beside the code (``resolution``,
``error``), for the admin's search, the logs, and rows written before the code existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext, gettext_noop

from covage.export_csv import CONTACT_PREFIX, SESSION_PREFIX

# What was done to a difference, by code (a dismissal keeps its reason as typed, no code).
APPLIED_STATE = "applied_state"
GONE = "gone"
PUSHED_AGAIN = "pushed_again"
CREATED_AGAIN = "created_again"
CREATED_AGAIN_WITH_LINES = "created_again_with_lines"
LINKED_LINE = "linked_line"
LINKED_SESSION = "linked_session"

RESOLUTIONS: dict[str, str] = {
    APPLIED_STATE: gettext_noop("Applied: Covage is the source of truth for states."),
    GONE: gettext_noop("No longer found in export #%(job)s."),
    PUSHED_AGAIN: gettext_noop("Sent again to Covage with the portal's values."),
    CREATED_AGAIN: gettext_noop("Created again at Covage."),
    CREATED_AGAIN_WITH_LINES: gettext_noop("Created again at Covage, with its lines."),
    LINKED_LINE: gettext_noop("Linked to line %(line)s."),
    LINKED_SESSION: gettext_noop("Linked to session %(session)s."),
}

# Why a comparison did not finish, by code.
NO_FILE = "no_file"
FILE_GONE = "file_gone"
UNREADABLE = "unreadable"
UNEXPECTED = "unexpected"

COMPARISON_ERRORS: dict[str, str] = {
    NO_FILE: gettext_noop("This export has no file to compare."),
    FILE_GONE: gettext_noop("The export's file is no longer stored: it cannot be compared."),
    UNREADABLE: gettext_noop("The export's file cannot be read: %(reason)s"),
    UNEXPECTED: gettext_noop("The comparison stopped on an unexpected error; see the logs."),
}

# The label of a state difference's column (a line's or a session's state).
COVAGE_STATE = gettext_noop("Covage state")


def english(texts: Mapping[str, str], code: str, params: Mapping[str, Any] | None = None) -> str:
    """The text of ``code`` in the sources' language (English), to store beside the code."""
    return texts[code] % dict(params or {})


def render(
    texts: Mapping[str, str],
    code: str,
    params: Mapping[str, Any] | None,
    fallback: str,
) -> str:
    """The text of ``code`` in the active language; ``fallback`` (the stored English text, or a
    person's own words) when there is no code, or an unknown one."""
    msgid = texts.get(code or "")
    if msgid is None:
        return fallback
    try:
        return gettext(msgid) % dict(params or {})
    except (KeyError, TypeError, ValueError):
        return fallback


def model_field(model: type[models.Model], name: str) -> models.Field[Any, Any] | None:
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def column_label(column: str) -> str:
    """The label a person knows an export column by, in the active language: the model
    field's own, as the forms show it; the column itself when no field has that name."""
    from orders.models import LineContact, OrderLine, OrderSession

    if column.startswith(SESSION_PREFIX):
        found = model_field(OrderSession, column.removeprefix(SESSION_PREFIX))
        if found is not None:
            return gettext("Session: %(label)s") % {"label": found.verbose_name}
    elif column.startswith(CONTACT_PREFIX):
        found = model_field(LineContact, column.removeprefix(CONTACT_PREFIX))
        if found is not None:
            return gettext("%(label)s (contact entry)") % {"label": found.verbose_name}
    else:
        found = model_field(OrderLine, column)
        if found is not None:
            return str(found.verbose_name)
    return column
