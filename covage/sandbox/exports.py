"""CSV exports: one request per EXPORT_WINDOW per account, a delayed task, a streamed file.

The file is generated at download time, row by row (one row per line, session columns + line
columns + first contact's columns; a session without line gets one row with empty line
columns), `;`-separated and UTF-8 without BOM. It is never built in memory: rows are batched
into ~64 KB chunks. EXPORT_MIN_BYTES pads it with synthetic demo rows (benchmarks).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from covage.sandbox import faults
from covage.sandbox.http import NotFound, iso
from covage.sandbox.knobs import knob, knob_float
from covage.sandbox.lifecycle import parse_uuid
from covage.sandbox.models import ExportTask, ProductOrder, ProductOrderItem, SandboxAccount
from covage.sandbox.payloads import CONTACT_STRING_FIELDS, empty_contact, empty_line

CHUNK_BYTES = 64 * 1024
DELIMITER = ";"

SESSION_COLUMNS = [
    "product_order_id",
    "product_order_external_id",
    "product_order_project_id",
    "product_order_state",
    "product_order_creation_date",
    "product_order_order_date",
    "product_order_completion_date",
]
LINE_COLUMNS = [
    "id",
    "external_id",
    "state",
    "order_reference",
    "temporary_reference",
    "building_ref",
    "product_offering_id",
    "product_offering_qualification_item_id",
    "project_id",
    "quote_item_id",
    "offer_family",
    "offer_technology",
    "delivery_mode",
    "enni",
    "enni_2",
    "vlan_reference",
    "additional_vlan_reference",
    "option_ids",
    "end_customer_name",
    "customer_order_name",
    "business_code",
    "billing_site_ref",
    "siret_known",
    "scheduled_delivery_date",
    "cpe_networking_number",
    "cpe_serial_number",
    "note",
    "technical_note",
    "specific_request",
    "access_instructions",
    "order_date",
    "completion_date",
    "termination_error",
]
CONTACT_COLUMNS = [f"contact_{name}" for name in (*CONTACT_STRING_FIELDS, "latitude", "longitude")]
HEADER = SESSION_COLUMNS + LINE_COLUMNS + CONTACT_COLUMNS


def request_export(account: SandboxAccount) -> tuple[ExportTask | None, int]:
    """The new task, or None and the seconds to wait (the account row serialises requests)."""
    with transaction.atomic():
        locked = SandboxAccount.objects.select_for_update().get(pk=account.pk)
        now = timezone.now()
        window = knob_float("EXPORT_WINDOW")
        if locked.last_export_at is not None:
            remaining = (locked.last_export_at + timedelta(seconds=window) - now).total_seconds()
            if remaining > 0:
                return None, max(1, math.ceil(remaining))
        locked.last_export_at = now
        locked.save(update_fields=["last_export_at"])
        will_fail = faults.draw() < knob_float("EXPORT_FAILURE_RATE")
        return ExportTask.objects.create(account=locked, started=now, will_fail=will_fail), 0


def get_task(account: SandboxAccount, task_uid: str) -> ExportTask:
    task = ExportTask.objects.filter(account=account, uid=parse_uuid(task_uid)).first()
    if task is None:
        raise NotFound
    return task


def task_status(task: ExportTask) -> dict[str, Any]:
    stopped = task.started + timedelta(seconds=knob_float("EXPORT_DELAY"))
    done = timezone.now() >= stopped
    return {
        "task_id": str(task.uid),
        "success": (not task.will_fail) if done else None,
        "started": iso(task.started),
        "stopped": iso(stopped) if done else None,
    }


def is_downloadable(task: ExportTask) -> bool:
    return task_status(task)["success"] is True


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _session_cells(session: ProductOrder) -> list[str]:
    return [
        str(session.uid),
        session.external_id,
        session.project_id,
        session.state,
        _text(iso(session.creation_date)),
        _text(iso(session.order_date)),
        _text(iso(session.completion_date)),
    ]


def _line_cells(item: ProductOrderItem) -> list[str]:
    data = {**empty_line(), **item.data}
    contacts = data["related_contact_information"]
    contact = {**empty_contact(), **(contacts[0] if contacts else {})}
    line = {
        **data,
        "id": str(item.uid),
        "state": item.state,
        "order_reference": item.order_reference,
        "temporary_reference": item.temporary_reference,
        "building_ref": item.building_ref,
        "option_ids": "|".join(data["option_ids"]),
        "order_date": iso(item.order_date),
        "completion_date": iso(item.completion_date),
        "termination_error": "|".join(
            f"{error['code']}:{error['property_path']}" for error in item.termination_error
        ),
    }
    return [_text(line[name]) for name in LINE_COLUMNS] + [
        _text(contact[name.removeprefix("contact_")]) for name in CONTACT_COLUMNS
    ]


class _Chunker:
    """A file-like sink for csv.writer that hands out ~64 KB encoded chunks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def take(self) -> bytes:
        chunk = "".join(self.parts).encode()
        self.parts, self.size = [], 0
        return chunk


def _synthetic_template() -> str:
    """One padding row as a format string (its values hold no `;`, quote nor brace)."""
    session = {
        "product_order_id": "00000000-0000-4000-9000-{n:012d}",
        "product_order_external_id": "demo-{n}",
        "product_order_project_id": "PRJ-2024-001",
        "product_order_state": "completed",
        "product_order_creation_date": "2025-04-23T10:13:08.733+02:00",
        "product_order_order_date": "2025-04-23T10:24:57.225+02:00",
        "product_order_completion_date": "2025-04-23T10:25:02.225+02:00",
    }
    line = {
        "id": "00000000-0000-4000-8000-{n:012d}",
        "state": "acknowledged",
        "order_reference": "CMD_D_{n:08d}",
        "temporary_reference": "PO_DEMO_20250423_{n:06d}",
        "product_offering_id": "2173",
        "offer_family": "BPE",
        "offer_technology": "FIBDE",
        "enni": "CN012345",
        "vlan_reference": "1257",
        "end_customer_name": "Société Démo n°{n}",
        "specific_request": "Raccordement à l'étage, accès côté cour",
        "siret_known": "false",
    }
    contact = {
        "contact_end_customer_name": "Société Démo",
        "contact_contact1_firstname": "Hélène",
        "contact_contact1_lastname": "Lefèvre",
        "contact_city": "Mont-Saint-Aignan",
        "contact_postcode": "76130",
        "contact_street_name": "Rue André Sakharov",
        "contact_street_number": "4",
        "contact_insee_code": "76451",
    }
    values = {**session, **line, **contact}
    return DELIMITER.join(values.get(name, "") for name in HEADER) + "\r\n"


def _padding(already_sent: int, min_bytes: int) -> Iterator[bytes]:
    template = _synthetic_template()
    sent = already_sent
    number = 0
    while sent < min_bytes:
        rows: list[bytes] = []
        size = 0
        while size < CHUNK_BYTES and sent + size < min_bytes:
            number += 1
            row = template.format(n=number).encode()
            rows.append(row)
            size += len(row)
        chunk = b"".join(rows)
        sent += len(chunk)
        yield chunk


def stream_csv(account: SandboxAccount) -> Iterator[bytes]:
    min_bytes = int(knob("EXPORT_MIN_BYTES") or 0)
    sink = _Chunker()
    writer = csv.writer(sink, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(HEADER)
    sent = 0

    lines = (
        ProductOrderItem.objects.filter(product_order__account=account)
        .select_related("product_order")
        .order_by("product_order__creation_date", "product_order__pk", "created_at", "pk")
    )
    for item in lines.iterator(chunk_size=2000):
        writer.writerow(_session_cells(item.product_order) + _line_cells(item))
        if sink.size >= CHUNK_BYTES:
            chunk = sink.take()
            sent += len(chunk)
            yield chunk
    lineless = ProductOrder.objects.filter(account=account, items__isnull=True).order_by(
        "creation_date", "pk"
    )
    blank = [""] * (len(LINE_COLUMNS) + len(CONTACT_COLUMNS))
    for session in lineless.iterator(chunk_size=2000):
        writer.writerow(_session_cells(session) + blank)
        if sink.size >= CHUNK_BYTES:
            chunk = sink.take()
            sent += len(chunk)
            yield chunk
    tail = sink.take()
    if tail:
        sent += len(tail)
        yield tail
    if sent < min_bytes:
        yield from _padding(sent, min_bytes)
