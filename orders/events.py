"""The words of a session's history: what each action is called, and each message in the
reader's language.

Events are written by background workers and by requests, in whatever language is active
there, and read later by people who may read another one. So an event stores language-neutral
data: its action code, its message as an English msgid (marked with `gettext_noop` where it is
written) and the message's parameters. The words are chosen when the event is shown
(`OrderEvent.action_text` and `OrderEvent.message_text`, which call the two functions below).

This module imports no model, so that orders.models can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "attention_resolved": _("Attention resolved"),
    "confirmation_not_at_covage": _("Confirmation not received by Covage"),
    "confirmation_requested": _("Confirmation requested"),
    "confirmation_stopped": _("Confirmation stopped"),
    "confirmed_at_covage": _("Confirmed at Covage"),
    "copied_rejected_lines": _("Rejected lines copied here"),
    "line_added": _("Line added"),
    "line_created_again": _("Line created again"),
    "line_deleted": _("Line deleted"),
    "line_deleted_at_covage": _("Line deleted at Covage"),
    "line_duplicated": _("Line duplicated"),
    "line_found_in_export": _("Line found in an export"),
    "line_linked": _("Line linked to Covage"),
    "line_not_at_covage": _("Line not at Covage"),
    "line_pushed_again": _("Line sent again"),
    "line_refused_by_covage": _("Line refused by Covage"),
    "line_replaced": _("Line replaced"),
    "line_saved": _("Line saved"),
    "line_state": _("Line state"),
    "needs_attention": _("Needs attention"),
    "order_state": _("Order state"),
    "rejected_lines_copied": _("Rejected lines copied"),
    "remote_line_discarded": _("Line discarded at Covage"),
    "session_created": _("Session created"),
    "session_created_again": _("Session created again"),
    "session_created_at_covage": _("Session created at Covage"),
    "session_found_in_export": _("Session found in an export"),
    "session_linked": _("Session linked to Covage"),
    "session_not_at_covage": _("Session not at Covage"),
    "session_state": _("Session state"),
    "sync_requested": _("Sync requested"),
    "waiting_for_export": _("Waiting for an export"),
}

# Parameters whose values are English msgids themselves (a step's title, field labels, an
# offer that may be "no offer"): translated when shown. A list is shown joined by commas.
TRANSLATED_PARAMS = frozenset({"step", "fields", "old_offer", "new_offer"})

# Messages that depend on a count: the services record these keys (their singular msgid,
# written once here so that the catalogue holds them as plurals only); the plural form is
# chosen when shown, from the "count" parameter.
LINES_COPIED_FROM = "%(count)s line copied from %(session)s"
LINES_REFUSED = "Covage refused line %(positions)s: fix it and confirm again."
PLURAL_MESSAGES: dict[str, Promise] = {
    LINES_COPIED_FROM: ngettext_lazy(
        "%(count)s line copied from %(session)s",
        "%(count)s lines copied from %(session)s",
        "count",
    ),
    LINES_REFUSED: ngettext_lazy(
        "Covage refused line %(positions)s: fix it and confirm again.",
        "Covage refused lines %(positions)s: fix them and confirm again.",
        "count",
    ),
}


def action_label(action: str) -> str:
    """The action's name in the active language; an unknown code, humanised."""
    label = ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    return action.replace("_", " ").capitalize()


def _param_text(key: str, value: Any) -> Any:
    if key not in TRANSLATED_PARAMS:
        return value
    if isinstance(value, list | tuple):
        return ", ".join(gettext(str(item)) for item in value)
    return gettext(str(value)) if value else value


def message_text(message: str, params: Mapping[str, Any] | None = None) -> str:
    """The message in the active language. A message without parameters that is no msgid
    (data such as a Covage id, or an event written before messages were translated) comes
    back as it is; so does one whose parameters do not fit its translation."""
    if not message:
        return ""
    if not params:
        return gettext(message)
    values = {key: _param_text(key, value) for key, value in params.items()}
    plural = PLURAL_MESSAGES.get(message)
    try:
        if plural is not None:
            return str(plural % values)
        return gettext(message) % values
    except (KeyError, TypeError, ValueError):
        pass
    try:
        return message % values
    except (KeyError, TypeError, ValueError):
        return message
