"""A session's history is stored in no language and read in the reader's: messages are msgids
with their values, action codes have labels, and old or plain-data messages still show."""

from __future__ import annotations

from django.utils import translation

from orders import events
from orders.models import OrderEvent


def event(message: str, params: dict[str, object] | None = None, action: str = "x") -> OrderEvent:
    return OrderEvent(action=action, message=message, message_params=params or {})


def test_a_message_is_put_together_when_shown() -> None:
    assert event("Line %(position)s", {"position": 3}).message_text == "Line 3"


def test_plain_data_and_old_messages_show_as_they_are() -> None:
    assert event("e3b46a23-7bf1").message_text == "e3b46a23-7bf1"
    assert event("Line 2 copied from line 1").message_text == "Line 2 copied from line 1"
    assert event("").message_text == ""
    # Values that do not fit the message: the message, never an error.
    assert event("Line %(position)s", {"other": 1}).message_text == "Line %(position)s"


def test_counts_choose_their_plural_form_when_shown() -> None:
    one = event(events.LINES_COPIED_FROM, {"count": 1, "session": "CP-1"})
    two = event(events.LINES_COPIED_FROM, {"count": 2, "session": "CP-1"})
    assert one.message_text == "1 line copied from CP-1"
    assert two.message_text == "2 lines copied from CP-1"


def test_labels_given_as_msgids_are_translated_and_joined() -> None:
    shown = event(
        "%(step)s: %(fields)s", {"step": "Offer", "fields": ["Offer family", "Project"]}
    ).message_text
    assert shown == "Offer: Offer family, Project"


def test_actions_have_labels_and_unknown_codes_are_humanised() -> None:
    assert event("", action="confirmed_at_covage").action_text == "Confirmed at Covage"
    assert event("", action="something_new").action_text == "Something new"
    assert str(event("", action="line_saved")).startswith("Line saved")


def test_what_is_stored_is_the_msgid_whatever_the_language() -> None:
    from orders.services.events import msgid

    with translation.override("fr"):
        assert msgid(translation.gettext_lazy("Line saved")) == "Line saved"
