from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from orders.models import OrderEvent, OrderLine, OrderSession


def record(
    *,
    session: OrderSession,
    action: str,
    message: str = "",
    user: AbstractBaseUser | None = None,
    line: OrderLine | None = None,
    actor: str | None = None,
) -> OrderEvent:
    """One line of a session's history: who did what. Never holds personal data."""
    if actor is None:
        actor = OrderEvent.Actor.USER if user is not None else OrderEvent.Actor.TASK
    return OrderEvent.objects.create(
        session=session, line=line, user=user, actor=actor, action=action, message=message
    )
