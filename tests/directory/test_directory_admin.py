"""The directory in the admin: the back office's writes go through the services (the
history names them), a second customer with a SIRET already known is refused, customers are
merged with an action, and the history is read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import back_office_user, sales_user

from directory import services
from directory.models import DirectoryContact, DirectoryEvent, EndCustomer

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client):
    user = back_office_user()
    client.force_login(user)
    return user


def test_adding_and_changing_a_customer_records_the_agent(client, agent):
    response = client.post(
        reverse("admin:directory_endcustomer_add"),
        {
            "name": "Fromagerie Émile",
            "siret": "732 829 320 00074",
            "business_code": "",
            "billing_site_ref": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = EndCustomer.objects.get()
    assert customer.siret == "73282932000074" and customer.created_by == agent
    client.post(
        reverse("admin:directory_endcustomer_change", args=[customer.pk]),
        {
            "name": "Fromagerie Émile",
            "siret": "73282932000074",
            "business_code": "B-7",
            "billing_site_ref": "",
        },
    )
    customer.refresh_from_db()
    assert customer.business_code == "B-7"
    assert [(e.action, e.user, e.fields) for e in DirectoryEvent.objects.order_by("pk")] == [
        (
            "created",
            agent,
            ["End customer name", "SIRET number"],
        ),
        ("changed", agent, ["Business code"]),
    ]


def test_a_second_customer_with_a_known_siret_is_refused(client, agent):
    services.create_customer(user=agent, values={"name": "A", "siret": "73282932000074"})
    response = client.post(
        reverse("admin:directory_endcustomer_add"),
        {"name": "B", "siret": "73282932000074", "business_code": "", "billing_site_ref": ""},
    )
    assert response.status_code == 200
    assert "already has this SIRET" in response.content.decode()
    assert EndCustomer.objects.count() == 1


def test_the_merge_action_and_delete_go_through_the_services(client, agent):
    seller = sales_user()
    keep = services.create_customer(user=seller, values={"name": "Fromagerie Émile"})
    copy = services.create_customer(user=seller, values={"name": "Fromagerie Emile bis"})
    contact = services.add_contact(user=seller, customer=copy, values={"firstname": "Léa"})
    response = client.post(
        reverse("admin:directory_endcustomer_changelist"),
        {"action": "merge_into_oldest", "_selected_action": [keep.pk, copy.pk]},
    )
    assert response.status_code == 302
    assert list(EndCustomer.objects.all()) == [keep]
    contact.refresh_from_db()
    assert contact.customer == keep
    merged = DirectoryEvent.objects.get(action="merged")
    assert merged.user == agent and "Fromagerie Emile bis" in merged.detail

    client.post(
        reverse("admin:directory_directorycontact_delete", args=[contact.pk]), {"post": "yes"}
    )
    assert not DirectoryContact.objects.exists()
    assert DirectoryEvent.objects.filter(action="deleted", kind="contact", user=agent).exists()


def test_the_history_cannot_be_changed_or_deleted(client, agent):
    customer = services.create_customer(user=agent, values={"name": "X"})
    event = customer.events.get()
    assert (
        client.get(reverse("admin:directory_directoryevent_change", args=[event.pk])).status_code
        == 200
    )
    response = client.post(
        reverse("admin:directory_directoryevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert DirectoryEvent.objects.filter(pk=event.pk).exists()


def test_a_salesperson_has_no_admin(client):
    client.force_login(sales_user())
    response = client.get(reverse("admin:directory_endcustomer_changelist"))
    assert response.status_code == 302
