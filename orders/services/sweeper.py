"""Finding work that was accepted locally but has stalled (read by the sweeper task).

Sessions that need attention are left alone (a person resolves them), and so are sessions
waiting for an export until that export is overdue. Each re-queue counts against the
session's bound (MAX_AUTOMATIC_RETRIES); past it, the session needs attention instead.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from covage import schemas
from exports import conf as export_conf
from orders.models import OrderLine, OrderSession, SyncStatus
from orders.services.lookups import wait_for_export


def default_grace() -> timedelta:
    """Younger work is most likely still in the queue: leave it to its own task."""
    return timedelta(seconds=getattr(settings, "ORDERS_SWEEPER_GRACE_SECONDS", 120))


# Automatic work stopped on these: the sweeper does not touch them.
LEFT_ALONE = Q(attention_since__isnull=False) | Q(settle_after__isnull=False)


def sessions_needing_sync(*, grace: timedelta | None = None) -> list[int]:
    """Sessions with a line Covage has not got, not being pushed right now."""
    cutoff = timezone.now() - (grace if grace is not None else default_grace())
    pending = (Q(deleted_at__isnull=False) & ~Q(covage_id="")) | (
        Q(deleted_at__isnull=True, synced_version__lt=F("version"))
        & ~Q(rejected_version=F("version"))
    )
    lines = (
        OrderLine.objects.filter(pending, updated_at__lt=cutoff)
        .exclude(session__sync_lease_until__gt=timezone.now())
        .exclude(session__attention_since__isnull=False)
        .exclude(session__settle_after__isnull=False)
    )
    return sorted(set(lines.values_list("session_id", flat=True)))


def confirmations_stalled(*, grace: timedelta | None = None) -> list[int]:
    cutoff = timezone.now() - (grace if grace is not None else default_grace())
    return list(
        OrderSession.objects.filter(
            sync_status=SyncStatus.CONFIRMING,
            confirm_requested_at__lt=cutoff,
            confirmed_at__isnull=True,
        )
        .exclude(LEFT_ALONE)
        .values_list("pk", flat=True)
    )


def polls_stalled(*, grace: timedelta | None = None) -> list[int]:
    """Confirmed sessions not final whose next poll is overdue (its message was lost)."""
    cutoff = timezone.now() - (grace if grace is not None else default_grace())
    return list(
        OrderSession.objects.filter(confirmed_at__isnull=False)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lt=cutoff))
        .exclude(remote_state__in=schemas.SESSION_FINAL_STATES)
        .exclude(LEFT_ALONE)
        .values_list("pk", flat=True)
    )


def exports_overdue() -> list[int]:
    """Sessions waiting for an export that should have come by now (it failed, or its
    message was lost): two export windows and a grace period after the moment they wait for."""
    cutoff = timezone.now() - 2 * export_conf.window() - default_grace()
    return list(
        OrderSession.objects.filter(settle_after__lt=cutoff, attention_since__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def ask_export_again(session_id: int) -> None:
    session = OrderSession.objects.get(pk=session_id)
    wait_for_export(session, after=timezone.now())
