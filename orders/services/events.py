"""Writing a session's history (orders.events says how it is read)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db.models.signals import post_save
from django.utils import translation

from orders.models import OrderEvent, OrderLine, OrderSession

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def record(
    *,
    session: OrderSession,
    action: str,
    message: str = "",
    message_params: Mapping[str, Any] | None = None,
    user: User | None = None,
    line: OrderLine | None = None,
    actor: str | None = None,
) -> OrderEvent:
    """One line of a session's history: who did what. Never holds personal data.

    `message` is an English msgid (marked with gettext_noop where it is written) or plain
    data (a Covage id); `message_params` fills its placeholders. Both are stored as they are,
    in no language, and translated when shown (OrderEvent.message_text)."""
    if actor is None:
        actor = OrderEvent.Actor.USER if user is not None else OrderEvent.Actor.TASK
    return OrderEvent.objects.create(
        session=session,
        line=line,
        user=user,
        actor=actor,
        action=action,
        message=message,
        message_params=dict(message_params or {}),
    )


def record_all(events: list[OrderEvent]) -> list[OrderEvent]:
    """Many events, built as record would build them (the same fields, the actor given), in
    one INSERT: the worker stores every line of an answer at once. Each is then announced as
    a saved one is (post_save, which notifications hear), so that both ways act alike."""
    created = OrderEvent.objects.bulk_create(events)
    for event in created:
        post_save.send(
            sender=OrderEvent,
            instance=event,
            created=True,
            update_fields=None,
            raw=False,
            using=event._state.db,
        )
    return created


def msgid(text: object) -> str:
    """The English msgid of a label (a gettext_lazy string, or a plain one), whatever the
    active language: what an event stores, to be translated when shown."""
    with translation.override(None):
        return str(text)


def msgids(texts: Iterable[object]) -> list[str]:
    return [msgid(text) for text in texts]
