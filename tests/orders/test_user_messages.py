"""What a user reads when Covage fails says what to do, and never names a host, an account
or a path (the log keeps the detail)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import sales_user
from order_data import OFFER

from orders import services
from orders.models import OrderLine

pytestmark = pytest.mark.django_db(transaction=True)


def test_refused_credentials_are_explained_without_host_or_account(sandbox_url, settings, client):
    settings.COVAGE_PASSWORD = "not-the-password"
    user = sales_user()
    session = services.create_session(user=user)
    line = services.add_line(user=user, session=session)
    services.save_line_step(user=user, line=line, step="offer", data=OFFER, version=line.version)
    line = OrderLine.objects.get(pk=line.pk)
    session.refresh_from_db()
    shown = [line.last_sync_error, session.last_sync_error]
    client.force_login(user)
    shown.append(client.get(reverse("orders:session", args=[session.pk])).content.decode())
    assert "credentials" in line.last_sync_error
    for text in shown:
        assert "127.0.0.1" not in text and "localhost" not in text
        assert "'demo'" not in text and "“demo”" not in text
        assert "/auth/realms" not in text and "/api/v1" not in text
