"""Lines, confirmation, the lazy resolution of confirmed sessions, and order tracking.

There is no worker: when anything of an account is read, sessions confirmed at least
CONFIRM_DELAY seconds ago are resolved (under a row lock, so that concurrent readers resolve a
session once). Resolution time is the confirmation time plus CONFIRM_DELAY, so dates do not
depend on when the sandbox was asked.

A line breaking a confirmation rule becomes `rejected_creation` with one `termination_error`
entry `{code, property_path, value}` per broken rule. Codes:

- `required`: a field required at confirmation is empty. Paths: `enni` (not for DIA offers),
  `related_contact_information` (no entry), `related_contact_information[0].<field>` for
  end_customer_name, contact1_email_address, contact1_firstname, contact1_lastname,
  contact1_phone_number, city, postcode, street_name, street_number, insee_code.
- `siret_required_when_known`: `siret_known` is true and the first contact has no siret
  (path `related_contact_information[0].siret`).
- `cpe_required_with_option_7021`: option 7021 is in option_ids and a CPE field is empty
  (path `cpe_network_number` / `cpe_serial_number`, spelled as responses are, knob SPELLING).
- `cpe_forbidden_without_option_7021`: a CPE field is filled without option 7021 (value: the
  field's value).

`value` is the offending value as a string ("" when missing). A DIA line (offer_family "DIA",
any case) needs no enni: the one sent is replaced at resolution by a computed reference, as the
documentation says. A clean line gets `acknowledged`, `held_adv_validation` or `in_progress`
(drawn from SEED and the line id, so a seeded sandbox is reproducible), an order reference
`CMD_X_<8 digits>` and a building reference. The session then becomes `completed`, `partial`
or `rejected`.

Order tracking: a created order passes one production step every TRACKING_STEP_SECONDS after
its creation (0 means all at once); its state is `confirmed` before the first step,
`in_progress` during them and `active` once `service_activated` is reached.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from covage.sandbox.http import NotFound, Refused, iso, iso_date
from covage.sandbox.knobs import knob, knob_float
from covage.sandbox.models import ProductOrder, ProductOrderItem, SandboxAccount
from covage.sandbox.payloads import empty_line, out_name

CREATED_STATES = ("acknowledged", "held_adv_validation", "in_progress")
FINAL_SESSION_STATES = ("completed", "partial", "rejected")
CONTACT_REQUIRED = (
    "end_customer_name",
    "contact1_email_address",
    "contact1_firstname",
    "contact1_lastname",
    "contact1_phone_number",
    "city",
    "postcode",
    "street_name",
    "street_number",
    "insee_code",
)
CPE_OPTION = "7021"
TRACKING_STEPS = (
    ("production_manager_assigned", "Production manager assigned"),
    ("optical_route_received", "Optical route received"),
    ("technical_visit_planned", "Technical visit planned"),
    ("technical_visit_done", "Technical visit done"),
    ("network_built", "Network built"),
    ("service_activated", "Service activated"),
)


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def customer_code(username: str) -> str:
    """A stable Covage customer code per account, shaped like the examples' `DC173`."""
    number = _digest(username)
    return f"D{chr(ord('A') + number % 26)}{number // 26 % 1000:03d}"


def state_change(state: str, when: datetime, reason: str = "") -> dict[str, Any]:
    return {"change_reason": reason, "change_date": iso(when), "state": state}


def parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound from exc


def get_session(account: SandboxAccount, uid: str, *, lock: bool = False) -> ProductOrder:
    queryset = ProductOrder.objects.filter(account=account)
    if lock:
        queryset = queryset.select_for_update()
    session = queryset.filter(uid=parse_uuid(uid)).first()
    if session is None:
        raise NotFound
    return session


def _require_created(session: ProductOrder) -> None:
    if session.state != "created":
        raise Refused(f"The order session is {session.state}: its lines can no longer be changed.")


def create_session(account: SandboxAccount, fields: dict[str, str]) -> ProductOrder:
    return ProductOrder.objects.create(account=account, **fields)


def create_line(
    account: SandboxAccount, session_uid: str, fields: dict[str, Any]
) -> ProductOrderItem:
    with transaction.atomic():
        session = get_session(account, session_uid, lock=True)
        _require_created(session)
        now = timezone.now()
        data = empty_line()
        data.update(fields)
        item = ProductOrderItem.objects.create(
            product_order=session,
            data=data,
            state="created",
            state_change=[state_change("created", now)],
            created_at=now,
        )
        # The sequence number is the primary key, known only once the row exists.
        item.temporary_reference = (
            f"PO_{customer_code(account.username)}_{timezone.localtime(now):%Y%m%d}_{item.pk:06d}"
        )
        item.save(update_fields=["temporary_reference"])
        item.product_order = session
        return item


def _get_item(session: ProductOrder, item_uid: str) -> ProductOrderItem:
    item = session.items.filter(uid=parse_uuid(item_uid)).first()
    if item is None:
        raise NotFound
    item.product_order = session
    return item


def update_line(
    account: SandboxAccount, session_uid: str, item_uid: str, fields: dict[str, Any]
) -> ProductOrderItem:
    with transaction.atomic():
        session = get_session(account, session_uid, lock=True)
        item = _get_item(session, item_uid)
        _require_created(session)
        item.data = {**empty_line(), **item.data, **fields}
        item.save(update_fields=["data"])
        return item


def delete_line(account: SandboxAccount, session_uid: str, item_uid: str) -> ProductOrder:
    with transaction.atomic():
        session = get_session(account, session_uid, lock=True)
        item = _get_item(session, item_uid)
        _require_created(session)
        item.delete()
        return session


def confirm(account: SandboxAccount, session_uid: str) -> ProductOrder:
    """Exactly one of concurrent confirmations succeeds: the session row is locked."""
    with transaction.atomic():
        session = get_session(account, session_uid, lock=True)
        if session.state != "created":
            raise Refused(f"The order session is already {session.state}.")
        items = list(session.items.all())
        if not items:
            raise Refused("The order session has no order line to confirm.")
        now = timezone.now()
        session.state = "in_progress"
        session.order_date = now
        session.save(update_fields=["state", "order_date"])
        for item in items:
            item.state = "in_progress"
            item.state_change = [*item.state_change, state_change("in_progress", now)]
        ProductOrderItem.objects.bulk_update(items, ["state", "state_change"])
        return session


def is_dia(data: dict[str, Any]) -> bool:
    return str(data.get("offer_family") or "").strip().upper() == "DIA"


def confirmation_errors(data: dict[str, Any]) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []

    def broken(code: str, path: str, value: Any = "") -> None:
        errors.append(
            {"code": code, "property_path": path, "value": "" if value is None else str(value)}
        )

    if not is_dia(data) and not str(data.get("enni") or "").strip():
        broken("required", "enni", data.get("enni"))
    contacts = data.get("related_contact_information") or []
    first: dict[str, Any] = contacts[0] if contacts else {}
    if not contacts:
        broken("required", "related_contact_information")
    else:
        for name in CONTACT_REQUIRED:
            if not str(first.get(name) or "").strip():
                broken("required", f"related_contact_information[0].{name}", first.get(name))
    if data.get("siret_known") and not str(first.get("siret") or "").strip():
        broken(
            "siret_required_when_known", "related_contact_information[0].siret", first.get("siret")
        )
    with_option = CPE_OPTION in (data.get("option_ids") or [])
    for name in ("cpe_networking_number", "cpe_serial_number"):
        value = str(data.get(name) or "").strip()
        if with_option and not value:
            broken("cpe_required_with_option_7021", out_name(name), value)
        elif not with_option and value:
            broken("cpe_forbidden_without_option_7021", out_name(name), value)
    return errors


def _dia_enni(item: ProductOrderItem) -> str:
    return f"CN9{_digest(str(item.uid)) % 100000:05d}"


def _resolve_item(item: ProductOrderItem, when: datetime) -> bool:
    data = {**empty_line(), **item.data}
    if is_dia(data):
        data["enni"] = _dia_enni(item)
        item.data = data
    errors = confirmation_errors(data)
    if errors:
        item.state = "rejected_creation"
        item.termination_error = errors
        item.completion_date = when
        reason = f"{len(errors)} validation error(s)"
    else:
        seed = str(knob("SEED") or "")
        item.state = random.Random(f"{seed}:{item.uid}").choice(CREATED_STATES)
        item.order_reference = f"CMD_X_{item.pk:08d}"
        item.order_date = when
        item.resolved_at = when
        contacts = data.get("related_contact_information") or [{}]
        insee = str(contacts[0].get("insee_code") or "00000")
        item.building_ref = f"IMB/{insee}/X/{_digest(str(item.uid)) % 0xFFFF:04X}"
        reason = "Order created"
    item.state_change = [*item.state_change, state_change(item.state, when, reason)]
    return not errors


def _resolve_session(session: ProductOrder) -> None:
    assert session.order_date is not None
    when = session.order_date + timedelta(seconds=knob_float("CONFIRM_DELAY"))
    items = list(session.items.all())
    created = [_resolve_item(item, when) for item in items]
    ProductOrderItem.objects.bulk_update(
        items,
        [
            "data",
            "state",
            "state_change",
            "termination_error",
            "order_reference",
            "order_date",
            "completion_date",
            "resolved_at",
            "building_ref",
        ],
    )
    if all(created):
        session.state = "completed"
    elif any(created):
        session.state = "partial"
    else:
        session.state = "rejected"
    session.completion_date = when
    session.save(update_fields=["state", "completion_date"])


def resolve_due(account: SandboxAccount) -> None:
    cutoff = timezone.now() - timedelta(seconds=knob_float("CONFIRM_DELAY"))
    due = ProductOrder.objects.filter(account=account, state="in_progress", order_date__lte=cutoff)
    # Checked without a lock first: most reads find nothing due and must not take one.
    if not due.exists():
        return
    with transaction.atomic():
        for session in due.select_for_update():
            _resolve_session(session)


# --- Order tracking -----------------------------------------------------------------------------


def created_orders(account: SandboxAccount):
    return (
        ProductOrderItem.objects.filter(product_order__account=account)
        .exclude(order_reference="")
        .select_related("product_order")
        .order_by("resolved_at", "pk")
    )


def get_order(account: SandboxAccount, reference: str) -> ProductOrderItem:
    item = created_orders(account).filter(order_reference=reference).first()
    if item is None:
        raise NotFound
    return item


def _steps_reached(item: ProductOrderItem, now: datetime) -> list[tuple[str, str, datetime]]:
    assert item.resolved_at is not None
    step = knob_float("TRACKING_STEP_SECONDS")
    if step <= 0:
        return [(code, label, item.resolved_at) for code, label in TRACKING_STEPS]
    elapsed = (now - item.resolved_at).total_seconds()
    count = max(0, min(len(TRACKING_STEPS), int(elapsed // step)))
    return [
        (code, label, item.resolved_at + timedelta(seconds=step * (index + 1)))
        for index, (code, label) in enumerate(TRACKING_STEPS[:count])
    ]


def order_repr(item: ProductOrderItem, now: datetime) -> dict[str, Any]:
    steps = _steps_reached(item, now)
    if not steps:
        state = "confirmed"
    elif len(steps) < len(TRACKING_STEPS):
        state = "in_progress"
    else:
        state = "active"
    data = {**empty_line(), **item.data}
    return {
        "modification_date": iso(steps[-1][2] if steps else item.resolved_at),
        "order_reference": item.order_reference,
        "id": item.temporary_reference,
        "order_date": iso_date(item.order_date),
        "cancellation_date": None,
        "cancellation_reason": "",
        "completion_date": iso(steps[-1][2]) if state == "active" else None,
        "state": state,
        "project_id": data["project_id"] or item.product_order.project_id,
        "offer_technology": data["offer_technology"],
        # Not an order-line field: a believable commitment in months, stable per order.
        "commitment": (12, 24, 36)[_digest(item.order_reference) % 3],
    }


def order_historic(item: ProductOrderItem, now: datetime) -> list[dict[str, Any]]:
    return [
        {"code": code, "label": label, "date": iso(when)}
        for code, label, when in _steps_reached(item, now)
    ]
