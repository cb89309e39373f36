"""The outcome of a confirmation on the session page: progress, states, reasons on fields."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import sales_user
from order_data import fill_line

from orders import services
from orders.models import LineContact, OrderLine, OrderSession, SyncStatus

pytestmark = pytest.mark.django_db(transaction=True)


def lines_partial(client, session):
    return client.get(
        reverse("orders:session_lines", args=[session.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()


def test_progress_then_final_states_and_rejection_reasons(sandbox_url, client, settings):
    user = sales_user()
    client.force_login(user)
    session = services.create_session(user=user)
    good = fill_line(user, session)
    bad = fill_line(user, session, end_customer_name="Crêperie Noël")
    # What Covage's rules catch although ours passed (changed behind the form's back).
    LineContact.objects.filter(line=bad).update(postcode="")
    OrderLine.objects.filter(pk=bad.pk).update(version=bad.version + 1)
    services.sync_session(session_id=session.pk)
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.CONFIRMING, confirm_requested_at=timezone.now()
    )
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "CONFIRM_DELAY": 3600.0}
    services.run_confirmation(session_id=session.pk)

    body = lines_partial(client, session)
    assert "0 of 2 lines decided" in body
    assert 'hx-trigger="every 5s"' in body  # Covage is deciding: keep asking
    # The history rides along out of band, so the events of the tasks show up too.
    history = body[body.index('id="session-history"') :]
    assert 'hx-swap-oob="true"' in history[:200] and "Confirmed at Covage" in history

    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "CONFIRM_DELAY": 0.0}
    assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL
    body = lines_partial(client, session)
    assert "2 of 2 lines decided" in body
    assert "hx-trigger" not in body  # final: the polling stops
    assert "rejected_creation" in body and "partial" in body
    assert "Postcode is missing: Covage needs it to create the order." in body
    step_url = reverse("orders:line_step", args=[session.pk, bad.pk, "address"])
    assert f'href="{step_url}#id_postcode"' in body
    assert "Copy rejected lines to a new session" in body
    assert OrderLine.objects.get(pk=good.pk).order_reference in body

    # The line's page puts the reason on the field itself.
    detail = client.get(reverse("orders:line", args=[session.pk, bad.pk])).content.decode()
    field = detail[detail.index('id="id_postcode"') :]
    assert field.index("Rejected by Covage: Postcode is missing") < field.index("</dd>")
