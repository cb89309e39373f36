"""Sessions whose automatic work stopped past its bound, and the back office's way out.

Every retry loop of the portal has a bound. Past it, the session is marked as needing
attention with the reason in words; the sweeper then leaves it alone (so nothing loops for
ever), and the back office resolves it from the admin, which queues the work again.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from orders.models import OrderSession, SyncStatus
from orders.services.events import record

logger = logging.getLogger(__name__)


def mark_needs_attention(*, session_id: int, reason: str) -> None:
    """Stop automatic work on the session and say why (kept until a person resolves it)."""
    updated = OrderSession.objects.filter(pk=session_id, attention_since__isnull=True).update(
        attention_reason=reason, attention_since=timezone.now()
    )
    if updated:
        logger.warning("session %s needs attention: %s", session_id, reason)
        session = OrderSession.objects.get(pk=session_id)
        record(session=session, action="needs_attention", message=reason, actor="task")


@transaction.atomic
def resolve_attention(*, user: AbstractBaseUser, session: OrderSession) -> str:
    """Clear the mark and queue again whatever the session was waiting for; returns what
    was queued ("confirm", "poll" or "sync")."""
    from orders.tasks import confirm_session, poll_session, sync_session

    locked = OrderSession.objects.select_for_update().get(pk=session.pk)
    reason = locked.attention_reason
    locked.attention_reason = ""
    locked.attention_since = None
    locked.poll_count = 0
    locked.save(update_fields=["attention_reason", "attention_since", "poll_count"])
    if locked.sync_status == SyncStatus.CONFIRMING and locked.confirmed_at is None:
        task, queued = confirm_session, "confirm"
    elif locked.confirmed_at is not None:
        task, queued = poll_session, "poll"
    else:
        task, queued = sync_session, "sync"
    record(session=locked, user=user, action="attention_resolved", message=reason)
    session_id = locked.pk
    transaction.on_commit(lambda: task.delay(session_id))
    return queued
