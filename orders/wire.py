"""Translation between our models and Covage's wire payloads (covage.schemas)."""

from __future__ import annotations

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

# Which line fields each endpoint takes, as its table in the documents lists them: the
# creating POST takes them all; the PATCH table has no offer family nor technology.
LINE_CREATE_FIELDS = schemas.LinePayload.field_names()
LINE_UPDATE_FIELDS = schemas.LinePayload.update_field_names()

CONTACT_FIELDS = tuple(
    f.name for f in LineContact._meta.get_fields() if f.name not in {"id", "line", "position"}
)


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
    contacts = sorted(line.contacts.all(), key=lambda c: c.position)
    return schemas.LinePayload(
        product_offering_id=line.product_offering_id,
        product_offering_qualification_item_id=line.product_offering_qualification_item_id,
        end_customer_name=line.end_customer_name,
        external_id=line.external_id,
        option_ids=[str(option) for option in line.option_ids or []],
        note=line.note,
        technical_note=line.technical_note,
        # A line without its own project belongs to the session's.
        project_id=line.project_id or session.project_id,
        quote_item_id=line.quote_item_id,
        delivery_mode=line.delivery_mode,
        enni=line.enni,
        enni_2=line.enni_2,
        vlan_reference=line.vlan_reference,
        customer_order_name=line.customer_order_name,
        business_code=line.business_code,
        billing_site_ref=line.billing_site_ref,
        related_contact_information=[contact_payload(c, line) for c in contacts],
        siret_known=line.siret_known,
        additional_vlan_reference=line.additional_vlan_reference,
        offer_family=line.offer_family,
        offer_technology=line.offer_technology,
        specific_request=line.specific_request,
        access_instructions=line.access_instructions,
        scheduled_delivery_date=line.scheduled_delivery_date,
        cpe_networking_number=line.cpe_networking_number,
        cpe_serial_number=line.cpe_serial_number,
    )


def apply_remote_line(line: OrderLine, remote: schemas.OrderLine) -> list[str]:
    """Copy Covage's view of a line onto `line` (not saved); returns the fields set: only
    mirrored ones, so a sync never overwrites what the user typed.

    States, dates and the history entries are stored verbatim; an empty answer never
    erases what we already know.
    """
    values: dict[str, Any] = {
        "covage_id": remote.id or line.covage_id,
        "remote_state": remote.state or line.remote_state,
        "temporary_reference": remote.temporary_reference or line.temporary_reference,
        "order_reference": remote.order_reference or line.order_reference,
        "building_ref": remote.building_ref or line.building_ref,
        "order_date": remote.order_date or line.order_date,
        "completion_date": remote.completion_date or line.completion_date,
        "cancellation_date": remote.cancellation_date or line.cancellation_date,
        "cancellation_reason": remote.cancellation_reason or line.cancellation_reason,
        "remote_payload": remote.raw,
    }
    for name, value in values.items():
        setattr(line, name, value)
    return list(values)


def store_history(line: OrderLine, remote: schemas.OrderLine) -> None:
    """Add the `state_change` entries we have not seen yet, and replace the termination
    errors with the answer's when it carries some (Covage sends the full list)."""
    for change in remote.state_change:
        LineStateChange.objects.get_or_create(
            line=line,
            state=change.state,
            change_date=change.change_date,
            defaults={"change_reason": change.change_reason},
        )
    if remote.termination_error:
        known = {
            (e.code, e.property_path, e.value)
            for e in line.termination_errors.all().only("code", "property_path", "value")
        }
        for error in remote.termination_error:
            key = (error.code, error.property_path, error.value)
            if key not in known:
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
