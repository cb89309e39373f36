"""One click, one unit of work at Covage: a double click on "Copy rejected lines" or "Retry"
causes no second call (the calls are counted at the sandbox). And one line, a few statements
in the database: the worker's work per line does not grow with reads of its own."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from factories import sales_user
from order_data import fill_line

from covage.sandbox.models import SandboxCall
from orders import services
from orders.models import LineContact, OrderLine, OrderSession, SyncStatus

pytestmark = pytest.mark.django_db(transaction=True)

# Per line sent during a confirmation: its answer stored (BEGIN, UPDATE, its state entry,
# COMMIT), then the confirmation's and the poll's UPDATE; events are shared by the session.
PER_LINE = 7


@pytest.fixture
def user() -> Any:
    return sales_user()


def partial_session(user: Any) -> OrderSession:
    """A confirmed session whose second line Covage rejected."""
    session = services.create_session(user=user)
    fill_line(user, session)
    bad = fill_line(user, session, end_customer_name="Épicerie Noël")
    LineContact.objects.filter(line=bad).update(insee_code="")
    OrderLine.objects.filter(pk=bad.pk).update(version=bad.version + 1)
    services.sync_session(session_id=session.pk)
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.CONFIRMING, confirm_requested_at=timezone.now()
    )
    services.run_confirmation(session_id=session.pk)
    services.poll_session(session_id=session.pk)
    session.refresh_from_db()
    assert session.remote_state == "partial"
    return session


def test_a_double_click_on_copy_makes_one_copy_and_one_session_at_covage(sandbox_url, client, user):
    session = partial_session(user)
    client.force_login(user)
    url = reverse("orders:copy_rejected", args=[session.pk])
    first = client.post(url)
    creates_after_first = SandboxCall.objects.filter(
        method="POST", path="/api/v1/product_order"
    ).count()
    second = client.post(url)

    copies = OrderSession.objects.filter(copied_from=session)
    assert copies.count() == 1
    copy = copies.get()
    target = reverse("orders:session", args=[copy.pk])
    assert first["Location"] == target and second["Location"] == target
    assert [line.end_customer_name for line in copy.lines.all()] == ["Épicerie Noël"]
    assert (
        SandboxCall.objects.filter(method="POST", path="/api/v1/product_order").count()
        == creates_after_first
    )


def test_a_double_click_on_retry_sends_once(sandbox_url, client, user, settings):
    session = services.create_session(user=user)
    line = fill_line(user, session)
    # Covage refused the last change outright; the user presses Retry twice.
    OrderLine.objects.filter(pk=line.pk).update(
        version=line.version + 1, rejected_version=line.version + 1, sync_status="sync_failed"
    )
    client.force_login(user)
    url = reverse("orders:retry_sync", args=[session.pk])
    patches = SandboxCall.objects.filter(method="PATCH")
    before = patches.count()
    client.post(url)
    assert patches.count() == before + 1
    response = client.post(url, follow=True)
    assert "already being sent again" in response.content.decode()
    assert patches.count() == before + 1
    assert session.events.filter(action="sync_requested").count() == 1


def _confirmation_statements(user: Any, lines: int) -> int:
    """The statements of a confirmation and its poll, for a session whose lines all have a
    change Covage has not got (the confirmation pushes each one first)."""
    session = services.create_session(user=user)
    for _ in range(lines):
        fill_line(user, session)
    session.lines.update(version=F("version") + 1)
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.CONFIRMING, confirm_requested_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as queries:
        assert services.run_confirmation(session_id=session.pk) is services.ConfirmStep.POLL
        assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL
    return len(queries)


def test_a_confirmation_costs_a_few_statements_per_line(sandbox_url, user):
    # The worker runs this for every session: each line adds its PATCH's answer, and the
    # confirmation's and the poll's writes of it, never a read of its own (issue 13).
    one, four = _confirmation_statements(user, 1), _confirmation_statements(user, 4)
    assert (four - one) / 3 <= PER_LINE
