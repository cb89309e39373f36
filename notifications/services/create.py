"""Creating notifications: once per user and event, with the e-mail queued when the user
asked for it. Hooked at two places only (notifications.receivers): where an order event is
recorded, and the exports' signals."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q

from covage import schemas
from exports.models import ExportJob
from notifications import dispatch
from notifications.models import Frequency, Kind, Notification, NotificationPreference
from orders.models import OrderEvent, OrderLine, OrderSession
from portal.roles import BACK_OFFICE

logger = logging.getLogger(__name__)

DELIVERED_STATES = frozenset({schemas.ORDER_ACTIVE, schemas.ORDER_COMPLETED})


def preference_for(user: User) -> NotificationPreference:
    """The user's stored preferences, or the defaults (every event, at once) unsaved."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found or NotificationPreference(user=user)


def save_preferences(
    *, user: User, email_kinds: list[str], frequency: str, language: str
) -> NotificationPreference:
    """The user's choices (the preferences page): which events come by e-mail, how often,
    in which language."""
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user,
        defaults={"email_kinds": list(email_kinds), "frequency": frequency, "language": language},
    )
    return preference


def back_office_users() -> list[User]:
    users = get_user_model().objects.filter(
        Q(groups__name=BACK_OFFICE) | Q(is_superuser=True), is_active=True
    )
    return list(users.distinct().order_by("pk"))


def notify(
    *,
    users: Iterable[User | None],
    kind: str,
    key: str,
    params: Mapping[str, Any] | None = None,
    session: OrderSession | None = None,
    line: OrderLine | None = None,
    export_job: ExportJob | None = None,
) -> list[Notification]:
    """One notification per user for the event `key`; a user already told is skipped. The
    e-mail is queued after the commit for users who want this kind at once."""
    created = []
    seen: set[int] = set()
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        if Notification.objects.filter(user=user, key=key).exists():
            continue
        preference = preference_for(user)
        email_due = preference.emails(kind) and bool(getattr(user, "email", ""))
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    user=user,
                    kind=kind,
                    key=key[:120],
                    params=dict(params or {}),
                    session=session,
                    line=line,
                    export_job=export_job,
                    email_due=email_due,
                )
        except IntegrityError:
            continue  # told meanwhile by a concurrent run
        created.append(notification)
        if email_due and preference.frequency == Frequency.IMMEDIATE:
            dispatch.enqueue_email(notification.pk)
    return created


def may_notify(event: OrderEvent) -> bool:
    """False for the events that surely call for nothing, read from the event alone: the
    worker records a line_state event for every line it follows, and most are not rejections
    (no savepoint, no query for those)."""
    if event.action == "line_state":
        return (event.message_params or {}).get("after") == schemas.LINE_REJECTED_CREATION
    return True


def notify_for_event(event: OrderEvent) -> list[Notification]:
    """The notifications an order event calls for (most call for none)."""
    if not may_notify(event):
        return []
    if event.action == "line_state" and event.line_id:
        line = OrderLine.objects.select_related("session__owner").get(pk=event.line_id)
        return notify(
            users=[line.session.owner],
            kind=Kind.LINE_REJECTED,
            key=f"line_rejected:{line.pk}",
            params={"position": line.position, "session": line.session.external_id},
            session=line.session,
            line=line,
        )
    if event.action == "session_state":
        session = OrderSession.objects.select_related("owner").get(pk=event.session_id)
        if session.remote_state not in schemas.SESSION_FINAL_STATES:
            return []
        return notify(
            users=[session.owner],
            kind=Kind.SESSION_FINAL,
            key=f"session_final:{session.pk}:{session.remote_state}",
            params={"session": session.external_id, "state": session.remote_state},
            session=session,
        )
    if event.action == "order_state" and event.line_id:
        line = OrderLine.objects.select_related("session__owner").get(pk=event.line_id)
        if line.tracking_state not in DELIVERED_STATES:
            return []
        return notify(
            users=[line.session.owner],
            kind=Kind.ORDER_DELIVERED,
            key=f"order_delivered:{line.pk}",
            params={"order": line.order_reference, "session": line.session.external_id},
            session=line.session,
            line=line,
        )
    if event.action == "needs_attention":
        session = OrderSession.objects.select_related("owner").get(pk=event.session_id)
        since = session.attention_since.isoformat() if session.attention_since else event.pk
        return notify(
            users=[session.owner, *back_office_users()],
            kind=Kind.NEEDS_ATTENTION,
            key=f"needs_attention:{session.pk}:{since}",
            params={"session": session.external_id},
            session=session,
        )
    return []


def export_recipients(job: ExportJob) -> list[User]:
    """Who asked: the requester; a scheduled export's readers are the back office. The
    portal's own checks tell nobody."""
    if job.trigger == ExportJob.Trigger.MANUAL:
        return [job.requested_by] if job.requested_by else []
    if job.trigger == ExportJob.Trigger.SCHEDULED:
        return back_office_users()
    return []


def notify_export(job: ExportJob, *, ready: bool) -> list[Notification]:
    kind = Kind.EXPORT_READY if ready else Kind.EXPORT_FAILED
    return notify(
        users=export_recipients(job),
        kind=kind,
        key=f"{kind}:{job.pk}",
        params={"number": job.pk},
        export_job=job,
    )


def mark_read(*, user: User, ids: Iterable[int]) -> int:
    from django.utils import timezone

    return Notification.objects.filter(user=user, pk__in=list(ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )
