"""The directory and the address search on a line's steps: picking fills the step's fields
(saved as a draft, still editable), "Save this customer to the directory" in one action with
duplicates offered, and what a salesperson may not pick."""

from __future__ import annotations

import json
import re

import pytest
from directory_data import SITE
from django.urls import reverse
from factories import sales_user

from directory import services
from directory.models import EndCustomer
from orders.models import LineContact

pytestmark = pytest.mark.django_db


def step_url(line, step):
    return reverse("orders:line_step", args=[line.session_id, line.pk, step])


def management(total=0, initial=0):
    return {
        "contacts-TOTAL_FORMS": str(total),
        "contacts-INITIAL_FORMS": str(initial),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }


def entry0(line):
    return LineContact.objects.get(line=line, position=0)


@pytest.fixture
def seller(client):
    user = sales_user()
    client.force_login(user)
    return user


@pytest.fixture
def known(seller):
    """A customer in the directory, with a site and a contact the seller entered."""
    customer = services.create_customer(
        user=sales_user(),
        values={
            "name": "Boulangerie Ça Déménage",
            "siret": "73282932000074",
            "business_code": "AB123",
        },
    )
    site = services.add_site(
        user=seller, customer=customer, values={**SITE, "access_instructions": "Porte B"}
    )
    contact = services.add_contact(
        user=seller,
        customer=customer,
        values={
            "firstname": "Gérard",
            "lastname": "Lefèvre",
            "email_address": "gerard@example.fr",
            "phone_number": "01 23 45 67 89",
        },
    )
    return customer, site, contact


def test_the_customer_search_lists_customers_to_pick(client, seller, known):
    response = client.get(reverse("directory:pick_customers"), {"directory_q": "demenage"})
    page = response.content.decode()
    assert f'name="directory_customer" value="{known[0].pk}"' in page
    assert "Boulangerie Ça Déménage" in page and "76130 Mont-Saint-Aignan" in page
    empty = client.get(reverse("directory:pick_customers"), {"directory_q": "zzz"})
    assert "No end customer in the directory matches" in empty.content.decode()


def test_picking_a_customer_then_a_contact_fills_the_step_and_stays_editable(
    client, seller, known, make_line
):
    customer, _site, contact = known
    line = make_line(seller)
    typed = {"version": line.version, "customer_order_name": "Commande 42", **management()}
    response = client.post(step_url(line, "customer"), {**typed, "directory_customer": customer.pk})
    assert response.status_code == 302 and response.url.startswith(step_url(line, "customer"))
    line.refresh_from_db()
    assert (line.end_customer_name, line.siret_known, line.business_code) == (
        "Boulangerie Ça Déménage",
        True,
        "AB123",
    )
    assert line.customer_order_name == "Commande 42"  # typed with the pick: not lost
    assert entry0(line).siret == "73282932000074"

    page = client.get(step_url(line, "customer")).content.decode()
    # The customer's contacts are offered now; the values are ordinary inputs.
    assert f'name="directory_contact" value="{contact.pk}"' in page
    assert 'value="Boulangerie Ça Déménage"' in page

    response = client.post(
        step_url(line, "customer"),
        {
            "version": line.version,
            "end_customer_name": "Boulangerie Ça Déménage",
            "siret_known": "on",
            "siret": "73282932000074",
            "business_code": "AB123",
            "customer_order_name": "Commande 42",
            **management(),
            "directory_contact": contact.pk,
        },
    )
    assert response.status_code == 302
    first = entry0(line)
    assert (
        first.contact1_firstname,
        first.contact1_email_address,
        first.contact1_phone_number,
    ) == (
        "Gérard",
        "gerard@example.fr",
        "+33123456789",
    )


def test_a_contact_of_another_salesperson_cannot_be_picked(client, seller, known, make_line):
    customer = known[0]
    hidden = services.add_contact(user=sales_user(), customer=customer, values={"firstname": "Léa"})
    line = make_line(seller)
    page = client.get(step_url(line, "customer")).content.decode()
    assert "Léa" not in page
    response = client.post(
        step_url(line, "customer"),
        {"version": line.version, **management(), "directory_contact": hidden.pk},
    )
    assert response.status_code == 404
    assert entry0(line).contact1_firstname == ""


def test_a_contact_added_as_another_entry_repeats_the_customer_and_site(
    client, seller, known, make_line
):
    customer, _site, contact = known
    line = make_line(
        seller,
        line={"end_customer_name": customer.name},
        contact={"end_customer_name": customer.name, **SITE},
    )
    response = client.post(
        step_url(line, "customer"),
        {
            "version": line.version,
            "end_customer_name": customer.name,
            **management(),
            "directory_contact_entry": contact.pk,
        },
    )
    assert response.status_code == 302
    second = LineContact.objects.get(line=line, position=1)
    assert (second.contact1_firstname, second.contact1_phone_number) == ("Gérard", "+33123456789")
    assert (second.end_customer_name, second.postcode, second.insee_code) == (
        customer.name,
        "76130",
        "76451",
    )


def test_picking_an_address_fills_every_site_field(client, seller, make_line):
    line = make_line(seller, contact={"building_name": "Bâtiment C"})
    picked = {
        "label": "4bis Rue Andreï Sakharov 76130 Mont-Saint-Aignan",
        "street_number": "4",
        "street_number_extension": "bis",
        "street_name": "Rue Andreï Sakharov",
        "postcode": "76130",
        "city": "Mont-Saint-Aignan",
        "insee_code": "76451",
        "latitude": 49.474431,
        "longitude": 1.091502,
    }
    response = client.post(
        step_url(line, "address"),
        {
            "version": line.version,
            "building_name": "Bâtiment C",
            "address_pick": json.dumps(picked),
        },
    )
    assert response.status_code == 302
    first = entry0(line)
    assert (first.street_number, first.street_number_extension, first.street_name) == (
        "4",
        "bis",
        "Rue Andreï Sakharov",
    )
    assert (first.postcode, first.city, first.insee_code) == ("76130", "Mont-Saint-Aignan", "76451")
    assert (first.latitude, first.longitude) == (49.474431, 1.091502)
    assert first.building_name == "Bâtiment C"


def test_a_picked_address_that_is_not_one_is_refused(client, seller, make_line):
    line = make_line(seller)
    response = client.post(
        step_url(line, "address"), {"version": line.version, "address_pick": "{oops"}
    )
    assert response.status_code == 404


def test_a_wrong_value_in_a_picked_address_is_shown_on_its_field(client, seller, make_line):
    line = make_line(seller)
    picked = {
        "label": "x",
        "street_number": "1",
        "street_number_extension": "",
        "street_name": "Rue",
        "postcode": "123456",
        "city": "X",
        "insee_code": "76451",
        "latitude": None,
        "longitude": None,
    }
    response = client.post(
        step_url(line, "address"), {"version": line.version, "address_pick": json.dumps(picked)}
    )
    assert response.status_code == 200
    assert "Enter a French postcode of 5 digits" in response.content.decode()


def test_the_address_step_offers_the_sites_of_the_line_customer(client, seller, known, make_line):
    _customer, site, _contact = known
    line = make_line(seller, line={"end_customer_name": "BOULANGERIE CA DEMENAGE"})
    page = client.get(step_url(line, "address")).content.decode()
    assert f'name="directory_site" value="{site.pk}"' in page
    response = client.post(
        step_url(line, "address"), {"version": line.version, "directory_site": site.pk}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert entry0(line).street_name == "Rue Andreï Sakharov"
    assert line.access_instructions == "Porte B"


def test_save_to_directory_creates_then_offers_the_existing_entry(client, seller, make_line):
    values = {
        "end_customer_name": "Fromagerie Émile",
        "siret_known": "on",
        "siret": "73282932000074",
        "contact1_firstname": "Léa",
        "contact1_email_address": "lea@example.fr",
    }
    line = make_line(seller)
    response = client.post(
        step_url(line, "customer"),
        {"version": line.version, **values, **management(), "save_to_directory": "new"},
    )
    assert response.status_code == 302
    customer = EndCustomer.objects.get()
    assert customer.siret == "73282932000074"
    assert [c.firstname for c in customer.contacts.all()] == ["Léa"]

    # Another line of the same SIRET under another name: the existing entry is offered.
    other = make_line(seller)
    response = client.post(
        step_url(other, "customer"),
        {
            "version": other.version,
            **values,
            "end_customer_name": "Fromagerie E.",
            "contact1_firstname": "Paul",
            "contact1_email_address": "paul@example.fr",
            **management(),
            "save_to_directory": "new",
        },
    )
    assert response.status_code == 302 and f"duplicates={customer.pk}" in response.url
    assert EndCustomer.objects.count() == 1
    page = client.get(response.url).content.decode()
    assert f'name="save_to_directory" value="{customer.pk}"' in page
    assert "already in the directory" in page

    other.refresh_from_db()
    client.post(
        step_url(other, "customer"),
        {
            "version": other.version,
            **values,
            "end_customer_name": "Fromagerie E.",
            "contact1_firstname": "Paul",
            "contact1_email_address": "paul@example.fr",
            **management(),
            "save_to_directory": str(customer.pk),
        },
    )
    assert sorted(c.firstname for c in customer.contacts.all()) == ["Léa", "Paul"]


def test_steps_without_the_directory_part_still_save(client, seller, make_line):
    line = make_line(seller)
    response = client.post(
        step_url(line, "customer"), {"version": line.version, "end_customer_name": "Sans formset"}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.end_customer_name == "Sans formset"


def test_the_directory_page_searches_and_shows_a_customer(client, seller, known):
    customer = known[0]
    page = client.get(reverse("directory:list"), {"q": "mont saint"}).content.decode()
    assert customer.name in page
    detail = client.get(reverse("directory:customer", args=[customer.pk])).content.decode()
    assert "Gérard Lefèvre" in detail and "Rue Andreï Sakharov" in detail
    empty = client.get(reverse("directory:list"), {"q": "zzz"}).content.decode()
    assert "No end customer matches" in empty
    assert re.search(r"Created · end customer", detail)
