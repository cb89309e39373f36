"""Through the real services against the sandbox over HTTP: a session confirmed, decided and
its order followed until delivered tells its owner each time once, by e-mail once, and
the order's commitment and delivery are stored for the timeline and the dashboard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail
from factories import sales_user
from order_data import fill_line

from covage.client import reset_client
from notifications.models import Kind, Notification
from orders import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_client() -> Iterator[None]:
    reset_client()
    yield
    reset_client()


def test_decided_session_and_delivered_order_are_told_once(sandbox_url, settings):
    user = sales_user()
    session = services.create_session(user=user)
    fill_line(user, session)
    services.request_confirmation(user=user, session=session)
    assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "TRACKING_STEP_SECONDS": 0}
    assert services.track_orders() == 1
    assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL

    line = session.lines.get()
    assert line.tracking_state == "active"
    assert line.commitment in {"12", "24", "36"}
    assert line.delivered_at is not None

    kinds = sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))
    assert kinds == sorted([Kind.SESSION_FINAL, Kind.ORDER_DELIVERED])
    delivered = Notification.objects.get(kind=Kind.ORDER_DELIVERED)
    assert line.order_reference in delivered.text
    assert len(mail.outbox) == 2
    assert all(message.to == [user.email] for message in mail.outbox)
