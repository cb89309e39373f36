"""Sessions built through orders.services for the worker tests and the confirm benchmark, and
the checks made on them against the sandbox's records."""

from __future__ import annotations

from collections import Counter
from typing import Any

from order_data import fill_line

from covage.sandbox.models import ProductOrder, ProductOrderItem, SandboxCall
from orders import services
from orders.models import OrderLine, OrderSession

FINAL_STATES = ("completed", "partial", "rejected")


def build_sessions(user: Any, *, sessions: int, lines: int | list[int]) -> list[OrderSession]:
    counts = lines if isinstance(lines, list) else [lines] * sessions
    built = []
    for index in range(sessions):
        session = services.create_session(user=user, project_id=f"PRJ-{index:03d}")
        for number in range(counts[index % len(counts)]):
            fill_line(user, session, end_customer_name=f"Client {index}-{number}")
        built.append(session)
    return built


def confirm_all(user: Any, sessions: list[OrderSession]) -> None:
    for session in sessions:
        problems = services.request_confirmation(user=user, session=session)
        assert problems == [], f"session {session.pk} refused locally: {problems}"


def session_ids(sessions: list[OrderSession]) -> list[int]:
    return [session.pk for session in sessions]


def all_final(ids: list[int]) -> bool:
    return OrderSession.objects.filter(pk__in=ids, remote_state__in=FINAL_STATES).count() == len(
        ids
    )


def all_synced(ids: list[int]) -> bool:
    lines = OrderLine.objects.filter(session_id__in=ids, deleted_at__isnull=True)
    return not lines.filter(covage_id="").exists() and all(
        line.synced_version >= line.version for line in lines
    )


def describe_sessions(ids: list[int]) -> str:
    """One row per session: where it stands locally and at the sandbox."""
    rows = []
    for session in OrderSession.objects.filter(pk__in=ids).order_by("pk"):
        lines = list(session.lines.filter(deleted_at__isnull=True))
        synced = sum(1 for line in lines if line.synced_version >= line.version)
        confirms = confirm_calls(session) if session.covage_id else Counter()
        rows.append(
            f"session {session.pk} {session.external_id}: sync_status={session.sync_status} "
            f"remote_state={session.remote_state or '-'} "
            f"requested={bool(session.confirm_requested_at)} "
            f"attempted={bool(session.confirm_attempted_at)} "
            f"confirmed={bool(session.confirmed_at)} polls={session.poll_count} "
            f"lines synced {synced}/{len(lines)} confirm calls {dict(confirms)} "
            f"last_error={session.last_sync_error[:120]!r}"
        )
    return "\n".join(rows)


def confirm_calls(session: OrderSession) -> Counter[int]:
    """Status -> count of the PATCH …/confirm/ calls the sandbox received for the session."""
    calls = SandboxCall.objects.filter(
        method="PATCH", path__endswith="/confirm/", path__contains=session.covage_id
    )
    return Counter(calls.values_list("status", flat=True))


def duplicates_at_sandbox(sessions: list[OrderSession]) -> list[str]:
    """Sessions or lines the sandbox holds more than once (empty when all is well)."""
    problems = []
    for session in sessions:
        session.refresh_from_db()
        remote = ProductOrder.objects.filter(external_id=session.external_id)
        if remote.count() != 1:
            problems.append(f"{session.external_id}: {remote.count()} sessions at the sandbox")
            continue
        local = session.lines.filter(deleted_at__isnull=True).count()
        items = ProductOrderItem.objects.filter(product_order=remote.get())
        if items.count() != local:
            problems.append(f"{session.external_id}: {items.count()} lines there, {local} here")
        extra = Counter(items.values_list("data__external_id", flat=True))
        problems += [
            f"{session.external_id}: line {external_id} {count} times"
            for external_id, count in extra.items()
            if count > 1
        ]
    return problems


def states_differ(sessions: list[OrderSession]) -> list[str]:
    """Lines whose stored Covage state is not the sandbox's."""
    problems = []
    for session in sessions:
        for line in session.lines.filter(deleted_at__isnull=True):
            item = ProductOrderItem.objects.get(uid=line.covage_id)
            if item.state != line.remote_state:
                problems.append(f"line {line.pk}: here {line.remote_state}, sandbox {item.state}")
    return problems
