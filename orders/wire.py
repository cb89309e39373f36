"""Translation between our models and Covage's wire payloads (covage.schemas)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from covage import schemas
from orders.models import (
    LineContact,
    LineStateChange,
    LineTerminationError,
    OrderLine,
    OrderSession,
)
from orders.validators import phone_for_covage

# Which line fields each endpoint takes is declared once, by covage.schemas.LinePayload, as
# the endpoints' tables list them: the creating POST takes them all; the PATCH table has no
# offer family nor technology.
LINE_CREATE_FIELDS = schemas.LINE_CREATE_FIELDS
LINE_UPDATE_FIELDS = schemas.LINE_UPDATE_FIELDS

# Our line and contact fields have the tables' names. The contact entries are rows of their
# own (LineContact); every other row of the tables is the line field of the same name.
CONTACTS = "related_contact_information"
LINE_FIELDS = tuple(row.name for row in schemas.LINE_WIRE_FIELDS if row.name != CONTACTS)
CONTACT_FIELDS = tuple(item.name for item in fields(schemas.ContactInformation))


def _phone(value: str) -> str:
    try:
        return phone_for_covage(value)
    except Exception:
        # A number stored before validation existed goes out as typed; Covage will say.
        return value


def contact_payload(contact: LineContact, line: OrderLine) -> schemas.ContactInformation:
    values: dict[str, Any] = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    values["end_customer_name"] = contact.end_customer_name or line.end_customer_name
    values["contact1_phone_number"] = _phone(contact.contact1_phone_number)
    values["contact2_phone_number"] = _phone(contact.contact2_phone_number)
    return schemas.ContactInformation(**values)


def line_payload(line: OrderLine, session: OrderSession) -> schemas.LinePayload:
    """Everything the portal knows about a line, as Covage's request body."""
    values: dict[str, Any] = {name: getattr(line, name) for name in LINE_FIELDS}
    values["option_ids"] = [str(option) for option in line.option_ids or []]
    # A line without its own project belongs to the session's.
    values["project_id"] = line.project_id or session.project_id
    contacts = sorted(line.contacts.all(), key=lambda c: c.position)
    values[CONTACTS] = [contact_payload(c, line) for c in contacts]
    return schemas.LinePayload(**values)


# What Covage's answer about a line sets on it (apply_remote_line): nothing the user typed.
# The services save these, and the sync's own bookkeeping, without a history row
# (save_without_historical_record, or a queryset update as for the session): a line's history
# says who changed what among the people who edit it. Covage's view is kept verbatim on its
# own: the state_change and termination_error entries, an event for every state change, the
# last raw answer, and Covage's exports. One full-row copy per line for each of Covage's
# answers was the largest item in the worker's profile (issue 13).
MIRRORED_FIELDS = (
    "covage_id",
    "remote_state",
    "temporary_reference",
    "order_reference",
    "building_ref",
    "order_date",
    "completion_date",
    "cancellation_date",
    "cancellation_reason",
    "remote_payload",
)


def remote_line_values(remote: schemas.OrderLine) -> dict[str, Any]:
    """What Covage's answer about a line sets on it: the mirrored fields it carries, and
    always the raw answer. An empty value is left out: an answer never erases what we already
    know. States and dates are stored verbatim. A dict, so that the worker can write it in one
    UPDATE without reading the line first (orders.services.sync)."""
    values: dict[str, Any] = {
        "covage_id": remote.id,
        "remote_state": remote.state,
        "temporary_reference": remote.temporary_reference,
        "order_reference": remote.order_reference,
        "building_ref": remote.building_ref,
        "order_date": remote.order_date,
        "completion_date": remote.completion_date,
        "cancellation_date": remote.cancellation_date,
        "cancellation_reason": remote.cancellation_reason,
    }
    carried = {name: value for name, value in values.items() if value}
    carried["remote_payload"] = remote.raw
    return carried


def apply_remote_line(line: OrderLine, remote: schemas.OrderLine) -> list[str]:
    """Copy Covage's view of a line onto `line` (not saved, see remote_line_values); returns
    the fields it may have set: only mirrored ones (MIRRORED_FIELDS), so a sync never
    overwrites what the user typed."""
    for name, value in remote_line_values(remote).items():
        setattr(line, name, value)
    return list(MIRRORED_FIELDS)


def store_history(line: OrderLine, remote: schemas.OrderLine) -> None:
    """Add the `state_change` entries we have not seen yet, and replace the termination
    errors with the answer's when it carries some (Covage sends the full list)."""
    store_histories([(line, remote)])


def store_histories(pairs: list[tuple[OrderLine, schemas.OrderLine]]) -> None:
    """store_history for many lines in one statement, two when an entry has no date.

    The worker calls this for every line of every answer, so it inserts the entries in one
    statement; the unique constraint (ignore_conflicts) drops those already stored, and
    guards a concurrent writer of the same entry."""
    with_changes = [(line, remote) for line, remote in pairs if remote.state_change]
    if with_changes:
        # A dated entry already stored is dropped by the unique constraint (ignore_conflicts)
        # without being read first, which saved a query per answer. An undated one the
        # constraint cannot tell apart (NULLs differ): then the stored entries are read.
        undated = any(
            change.change_date is None
            for _, remote in with_changes
            for change in remote.state_change
        )
        known_changes = (
            set(
                LineStateChange.objects.filter(
                    line__in=[line.pk for line, _ in with_changes]
                ).values_list("line_id", "state", "change_date")
            )
            if undated
            else set()
        )
        new_changes = []
        for line, remote in with_changes:
            for change in remote.state_change:
                key = (line.pk, change.state, change.change_date)
                if key not in known_changes:
                    known_changes.add(key)
                    new_changes.append(
                        LineStateChange(
                            line=line,
                            state=change.state,
                            change_date=change.change_date,
                            change_reason=change.change_reason,
                        )
                    )
        LineStateChange.objects.bulk_create(new_changes, ignore_conflicts=True)
    for line, remote in pairs:
        if not remote.termination_error:
            continue
        known = {
            (e.code, e.property_path, e.value)
            for e in line.termination_errors.all().only("code", "property_path", "value")
        }
        for error in remote.termination_error:
            error_key = (error.code, error.property_path, error.value)
            if error_key not in known:
                LineTerminationError.objects.create(
                    line=line, code=error.code, property_path=error.property_path, value=error.value
                )


def remote_session_values(remote: schemas.OrderSession) -> dict[str, Any]:
    values: dict[str, datetime | str | None] = {
        "covage_id": remote.id,
        "remote_state": remote.state,
        "creation_date": remote.creation_date,
        "order_date": remote.order_date,
        "completion_date": remote.completion_date,
        "cancellation_date": remote.cancellation_date,
    }
    # The /confirm/ and DELETE answers carry no state or dates: keep what we have.
    return {name: value for name, value in values.items() if value}
