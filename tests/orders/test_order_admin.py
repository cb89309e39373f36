"""The back office's admin: sessions with their lines and contacts, history with authors,
and the actions that talk to Covage (through the sandbox)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import back_office_user, sales_user
from order_data import fill_line

from covage.sandbox.models import ProductOrderItem
from orders import services
from orders.models import OrderLine, OrderSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def confirmed_session(sandbox_url):
    user = sales_user(first_name="Éloïse")
    session = services.create_session(user=user, external_id="ADMIN-ÉTÉ")
    fill_line(user, session)
    return session


def test_back_office_sees_sessions_lines_contacts_and_history(client, confirmed_session):
    client.force_login(back_office_user())
    changelist = client.get(reverse("admin:orders_ordersession_changelist") + "?q=ÉTÉ")
    assert changelist.status_code == 200 and "ADMIN-ÉTÉ" in changelist.content.decode()

    change = client.get(reverse("admin:orders_ordersession_change", args=[confirmed_session.pk]))
    body = change.content.decode()
    assert change.status_code == 200 and "Pâtisserie Gérard" in body

    line = confirmed_session.lines.get()
    line_page = client.get(reverse("admin:orders_orderline_change", args=[line.pk]))
    assert line_page.status_code == 200 and "Rue Andreï Sakharov" in line_page.content.decode()

    history = client.get(reverse("admin:orders_orderline_history", args=[line.pk]))
    assert history.status_code == 200
    assert "Change history: ADMIN-ÉTÉ · line 1" in history.content.decode()
    assert line.history.count() >= 5  # created, then one version per step and sync


def test_a_correction_in_the_admin_is_sent_to_covage_with_its_author(client, confirmed_session):
    agent = back_office_user(first_name="Bruno")
    client.force_login(agent)
    line = confirmed_session.lines.get()
    url = reverse("admin:orders_orderline_change", args=[line.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "session": line.session_id,
            "customer_order_name": "Corrigé par le back office",
            "option_ids": "[]",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
            "state_changes-TOTAL_FORMS": "0",
            "state_changes-INITIAL_FORMS": "0",
            "termination_errors-TOTAL_FORMS": "0",
            "termination_errors-INITIAL_FORMS": "0",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.customer_order_name == "Corrigé par le back office"
    assert line.history.first().history_user == agent
    remote = ProductOrderItem.objects.get(uid=line.covage_id)
    assert remote.data["customer_order_name"] == "Corrigé par le back office"


def test_resync_action_reads_states_back_from_covage(client, confirmed_session):
    services.confirm_session(user=confirmed_session.owner, session=confirmed_session)
    OrderSession.objects.filter(pk=confirmed_session.pk).update(remote_state="in_progress")
    OrderLine.objects.filter(session=confirmed_session).update(remote_state="in_progress")
    client.force_login(back_office_user())
    response = client.post(
        reverse("admin:orders_ordersession_changelist"),
        {"action": "resync_from_covage", "_selected_action": [confirmed_session.pk]},
        follow=True,
    )
    assert "1 session(s) queued for a resync." in response.content.decode()
    confirmed_session.refresh_from_db()
    assert confirmed_session.remote_state == "completed"  # read back from the sandbox
    assert confirmed_session.lines.get().order_reference


def test_sales_staff_cannot_open_the_admin(client):
    client.force_login(sales_user())
    response = client.get(reverse("admin:orders_ordersession_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_history_records_the_salesperson_who_saved_a_step(client, confirmed_session):
    line = confirmed_session.lines.get()
    owner = confirmed_session.owner
    client.force_login(owner)
    url = reverse("orders:line_step", args=[confirmed_session.pk, line.pk, "review"])
    response = client.post(
        url, {"version": line.version, "note": "Sonnez deux fois", "technical_note": ""}
    )
    assert response.status_code == 302
    latest = OrderLine.history.filter(id=line.pk, note="Sonnez deux fois").earliest("history_date")
    assert latest.history_user == owner
