"""Sessions and lines in given states, for the dashboard and notification tests."""

from __future__ import annotations

import itertools
from typing import Any

from django.utils import timezone

from orders.models import LineContact, LineTerminationError, OrderLine, OrderSession, SyncStatus

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


def confirmed_session(owner: Any, **values: Any) -> OrderSession:
    values.setdefault("sync_status", SyncStatus.CONFIRMED)
    values.setdefault("confirmed_at", timezone.now())
    values.setdefault("remote_state", "in_progress")
    return make_session(owner, **values)
