"""Sessions and lines in given states, for the dashboard and notification tests."""

from __future__ import annotations

import itertools
from typing import Any

from django.utils import timezone

from orders.models import (
    LineContact,
    LineTerminationError,
    OrderEvent,
    OrderLine,
    OrderSession,
    SyncStatus,
)
from orders.services.events import record

_numbers = itertools.count(1)


def make_session(owner: Any, **values: Any) -> OrderSession:
    values.setdefault("external_id", f"CP-DASH-{next(_numbers):05d}")
    return OrderSession.objects.create(owner=owner, **values)


def make_line(session: OrderSession, *, city: str = "Rouen", **values: Any) -> OrderLine:
    values.setdefault("position", session.lines.count() + 1)
    values.setdefault("offer_family", "BPE")
    values.setdefault("offer_technology", "FIBDE")
    values.setdefault("end_customer_name", "Boulangerie Martin")
    line = OrderLine.objects.create(session=session, **values)
    LineContact.objects.create(line=line, position=0, city=city, end_customer_name="")
    return line


def rejected_line(
    session: OrderSession, *, code: str = "required", path: str = "enni"
) -> OrderLine:
    line = make_line(session, remote_state="rejected_creation", covage_id=f"L{next(_numbers)}")
    LineTerminationError.objects.create(line=line, code=code, property_path=path)
    return line


def record_rejection(line: OrderLine) -> OrderEvent:
    """Covage refused `line`, as a sync records it: the line's state, then the history event
    (what the dashboard and the notifications read)."""
    line.remote_state = "rejected_creation"
    line.save(update_fields=["remote_state"])
    return record(
        session=line.session,
        line=line,
        action="line_state",
        message="Line %(position)s: %(before)s → %(after)s",
        message_params={
            "position": line.position,
            "before": "in_progress",
            "after": "rejected_creation",
        },
        actor="sync",
    )


def confirmed_session(owner: Any, **values: Any) -> OrderSession:
    values.setdefault("sync_status", SyncStatus.CONFIRMED)
    values.setdefault("confirmed_at", timezone.now())
    values.setdefault("remote_state", "in_progress")
    return make_session(owner, **values)
