"""Sessions whose automatic work stopped past its bound, and the back office's way out.

Every retry loop of the portal has a bound. Past it, the session is marked as needing
attention with the reason in words; the sweeper then leaves it alone (so nothing loops for
ever), and the back office resolves it from the admin, which queues the work again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from orders import dispatch
from orders.models import OrderSession, SyncStatus
from orders.services.events import record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def mark_needs_attention(*, session_id: int, reason: str) -> None:
    """Stop automatic work on the session and say why (kept until a person resolves it).
    `reason` is an English msgid without placeholders: stored as it is, translated when
    shown."""
    updated = OrderSession.objects.filter(pk=session_id, attention_since__isnull=True).update(
        attention_reason=reason, attention_since=timezone.now()
    )
    if updated:
        logger.warning("session %s needs attention: %s", session_id, reason)
        session = OrderSession.objects.get(pk=session_id)
        record(session=session, action="needs_attention", message=reason, actor="task")


# Re-queues of one session's stalled work before a person must look (about an hour or more:
# each sync run itself retries for several minutes).
MAX_AUTOMATIC_RETRIES = 10

TOO_MANY_RETRIES = gettext_noop(
    "The portal tried again many times without reaching Covage. Check the session's last "
    "error, then resolve it to try again."
)


def count_automatic_retry(session_id: int) -> bool:
    """Count one re-queue; False (and the session needs attention) past the bound."""
    session = OrderSession.objects.filter(pk=session_id).only("automatic_retries").first()
    if session is None:
        return False
    if session.automatic_retries >= MAX_AUTOMATIC_RETRIES:
        mark_needs_attention(session_id=session_id, reason=TOO_MANY_RETRIES)
        return False
    OrderSession.objects.filter(pk=session_id).update(automatic_retries=F("automatic_retries") + 1)
    return True


@transaction.atomic
def resolve_attention(*, user: User, session: OrderSession) -> str:
    """Clear the mark and queue again whatever the session was waiting for; returns what
    was queued ("confirm", "poll" or "sync")."""
    locked = OrderSession.objects.select_for_update().get(pk=session.pk)
    reason = locked.attention_reason
    locked.attention_reason = ""
    locked.attention_since = None
    locked.poll_count = 0
    locked.save(update_fields=["attention_reason", "attention_since", "poll_count"])
    if locked.sync_status == SyncStatus.CONFIRMING and locked.confirmed_at is None:
        enqueue, queued = dispatch.enqueue_confirmation, "confirm"
    elif locked.confirmed_at is not None:
        enqueue, queued = dispatch.enqueue_poll, "poll"
    else:
        enqueue, queued = dispatch.enqueue_sync, "sync"
    record(session=locked, user=user, action="attention_resolved", message=reason)
    enqueue(locked.pk)
    return queued
