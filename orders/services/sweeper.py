"""Finding work that was accepted locally but has stalled (read by the sweeper task)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from covage import schemas
from orders.models import OrderLine, OrderSession, SyncStatus

# Younger work is most likely still in the queue: leave it to its own task.
GRACE = timedelta(minutes=2)


def sessions_needing_sync(*, grace: timedelta = GRACE) -> list[int]:
    """Sessions with a line Covage has not got, not being pushed right now."""
    cutoff = timezone.now() - grace
    pending = (Q(deleted_at__isnull=False) & ~Q(covage_id="")) | (
        Q(deleted_at__isnull=True, synced_version__lt=F("version"))
        & ~Q(rejected_version=F("version"))
    )
    lines = OrderLine.objects.filter(pending, updated_at__lt=cutoff).exclude(
        session__sync_lease_until__gt=timezone.now()
    )
    return sorted(set(lines.values_list("session_id", flat=True)))


def confirmations_stalled(*, grace: timedelta = GRACE) -> list[int]:
    cutoff = timezone.now() - grace
    return list(
        OrderSession.objects.filter(
            sync_status=SyncStatus.CONFIRMING,
            confirm_requested_at__lt=cutoff,
            confirmed_at__isnull=True,
        ).values_list("pk", flat=True)
    )


def polls_stalled(*, grace: timedelta = timedelta(minutes=5)) -> list[int]:
    """Confirmed sessions not final whose next poll is overdue (its message was lost)."""
    cutoff = timezone.now() - grace
    return list(
        OrderSession.objects.filter(confirmed_at__isnull=False)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lt=cutoff))
        .exclude(remote_state__in=schemas.SESSION_FINAL_STATES)
        .values_list("pk", flat=True)
    )
