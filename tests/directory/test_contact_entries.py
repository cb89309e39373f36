"""Several contact entries per line: the customer step's formset adds, edits, reorders and
removes the entries after the first; wrong values, the confirmation check and Covage's
errors are placed on the entry they concern."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import sales_user

from orders.models import LineContact, LineTerminationError, OrderEvent

pytestmark = pytest.mark.django_db

FIRST = {
    "end_customer_name": "Fromagerie Émile",
    "contact1_firstname": "Léa",
    "contact1_lastname": "Roy",
    "contact1_email_address": "lea@example.fr",
    "contact1_phone_number": "+33123456789",
    "street_number": "4",
    "street_name": "Rue Andreï Sakharov",
    "postcode": "76130",
    "city": "Mont-Saint-Aignan",
    "insee_code": "76451",
}


def step_url(line, step="customer"):
    return reverse("orders:line_step", args=[line.session_id, line.pk, step])


def entries_post(line, *entries, initial=0, **extra):
    """The customer step as a browser posts it, with `entries` as the formset's forms."""
    data = {
        "version": line.version,
        "end_customer_name": FIRST["end_customer_name"],
        **{name: FIRST[name] for name in FIRST if name.startswith("contact1")},
        "contacts-TOTAL_FORMS": str(len(entries)),
        "contacts-INITIAL_FORMS": str(initial),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }
    for index, values in enumerate(entries):
        for name, value in values.items():
            data[f"contacts-{index}-{name}"] = value
    data.update(extra)
    return data


def further(line):
    return [
        (entry.position, entry.contact1_firstname, entry.contact1_phone_number)
        for entry in LineContact.objects.filter(line=line, position__gt=0).order_by("position")
    ]


@pytest.fixture
def seller(client):
    user = sales_user()
    client.force_login(user)
    return user


@pytest.fixture
def line(seller, make_line):
    return make_line(seller, line={"end_customer_name": FIRST["end_customer_name"]}, contact=FIRST)


def test_entries_are_added_edited_reordered_and_removed(client, line):
    response = client.post(
        step_url(line),
        entries_post(
            line,
            {"contact1_firstname": "Paul", "contact1_phone_number": "06 12 34 56 78", "ORDER": "1"},
            {"contact1_firstname": "Anne", "ORDER": "2"},
        ),
    )
    assert response.status_code == 302
    assert further(line) == [(1, "Paul", "+33612345678"), (2, "Anne", "")]
    # Each entry repeats the customer and the site of the first.
    paul = LineContact.objects.get(line=line, position=1)
    assert (paul.end_customer_name, paul.postcode, paul.insee_code) == (
        "Fromagerie Émile",
        "76130",
        "76451",
    )
    saved = OrderEvent.objects.filter(action="line_saved").order_by("pk").last()
    assert "Further contact entries" in saved.message_params["fields"]

    line.refresh_from_db()
    page = client.get(step_url(line)).content.decode()
    assert 'id="id_contacts-0-contact1_firstname"' in page and 'value="Paul"' in page
    assert "Contact entry 3" in page

    # Anne first, Paul changed.
    client.post(
        step_url(line),
        entries_post(
            line,
            {"contact1_firstname": "Paulo", "ORDER": "2"},
            {"contact1_firstname": "Anne", "ORDER": "1"},
            initial=2,
        ),
    )
    assert [row[1] for row in further(line)] == ["Anne", "Paulo"]

    # Remove Anne.
    line.refresh_from_db()
    client.post(
        step_url(line),
        entries_post(
            line,
            {"contact1_firstname": "Anne", "ORDER": "1", "DELETE": "on"},
            {"contact1_firstname": "Paulo", "ORDER": "2"},
            initial=2,
        ),
    )
    assert further(line) == [(1, "Paulo", "")]


def test_an_address_changed_later_is_repeated_in_every_entry(client, line):
    client.post(step_url(line), entries_post(line, {"contact1_firstname": "Paul", "ORDER": "1"}))
    line.refresh_from_db()
    response = client.post(
        step_url(line, "address"),
        {
            "version": line.version,
            **{
                name: FIRST[name] for name in ("street_number", "street_name", "city", "insee_code")
            },
            "postcode": "76000",
        },
    )
    assert response.status_code == 302
    assert LineContact.objects.get(line=line, position=1).postcode == "76000"


def test_an_add_button_gives_an_empty_entry_and_an_empty_one_is_not_saved(client, line):
    response = client.post(step_url(line), entries_post(line, add_entry="1"))
    assert response.status_code == 302 and "add_entry=1" in response.url
    page = client.get(response.url).content.decode()
    assert 'name="contacts-0-contact1_firstname"' in page
    line.refresh_from_db()
    client.post(step_url(line), entries_post(line, {"contact1_firstname": "", "ORDER": "1"}))
    assert further(line) == []


def test_a_wrong_value_is_shown_on_its_entry_and_the_rest_is_saved(client, line):
    response = client.post(
        step_url(line),
        entries_post(
            line,
            {"contact1_firstname": "Paul", "ORDER": "1"},
            {"contact1_firstname": "Anne", "contact1_phone_number": "12", "ORDER": "2"},
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Some values are not in the expected format" in page
    # The message sits in the second further entry's block, on its phone field.
    block = page.split('id="contact-entry-3"')[1].split("</fieldset>")[0]
    assert 'id="id_contacts-1-contact1_phone_number"' in block
    assert "is-invalid" in block and 'value="12"' in block  # what was typed stays
    assert (
        'id="contact-entry-2"' in page
        and "is-invalid" not in page.split('id="contact-entry-2"')[1].split("</fieldset>")[0]
    )
    assert further(line) == [(1, "Paul", ""), (2, "Anne", "")]


def test_the_check_points_to_the_entry_and_its_field(client, line):
    LineContact.objects.create(line=line, position=1, contact1_email_address="not-an-email")
    page = client.get(reverse("orders:check", args=[line.session_id])).content.decode()
    assert f"{step_url(line)}#id_contacts-0-contact1_email_address" in page
    assert "(contact entry 2)" in page


def test_covage_errors_on_a_further_entry_land_on_that_entry(client, line):
    LineContact.objects.create(line=line, position=1, contact1_firstname="Paul")
    LineContact.objects.create(line=line, position=2, contact1_firstname="Anne")
    line.remote_errors = {
        "related_contact_information.2.contact1_phone_number": ["Invalid phone number."]
    }
    line.save(update_fields=["remote_errors"])
    LineTerminationError.objects.create(
        line=line,
        code="required",
        property_path="related_contact_information[1].contact1_email_address",
    )
    page = client.get(step_url(line)).content.decode()
    anne = page.split('id="contact-entry-3"')[1].split("</fieldset>")[0]
    assert "Covage: Invalid phone number." in anne
    paul = page.split('id="contact-entry-2"')[1].split("</fieldset>")[0]
    assert "Rejected by Covage" in paul and 'id="id_contacts-0-contact1_email_address"' in paul
    # Not on the first entry's own fields.
    first = page.split('id="contact-entries"')[0]
    assert "Invalid phone number" not in first
    # The session page's rejection links to the entry's field.
    session = client.get(reverse("orders:session", args=[line.session_id])).content.decode()
    assert f"{step_url(line)}#id_contacts-0-contact1_email_address" in session


def test_a_further_entry_is_made_the_first_one(client, line):
    client.post(
        step_url(line),
        entries_post(
            line, {"contact1_firstname": "Paul", "contact1_lastname": "Nguyen", "ORDER": "1"}
        ),
    )
    line.refresh_from_db()
    response = client.post(
        step_url(line),
        entries_post(
            line,
            {"contact1_firstname": "Paul", "contact1_lastname": "Nguyen", "ORDER": "1"},
            initial=1,
            first_entry="0",
        ),
    )
    assert response.status_code == 302
    first = LineContact.objects.get(line=line, position=0)
    assert (first.contact1_firstname, first.contact1_lastname, first.contact1_phone_number) == (
        "Paul",
        "Nguyen",
        "",
    )
    # The customer and the site stay the first entry's.
    assert (first.end_customer_name, first.postcode) == ("Fromagerie Émile", "76130")
    assert further(line) == [(1, "Léa", "+33123456789")]


def test_the_review_shows_the_further_entries(client, line):
    client.post(step_url(line), entries_post(line, {"contact1_firstname": "Paul", "ORDER": "1"}))
    page = client.get(step_url(line, "review")).content.decode()
    assert "On-site contact first name (contact entry 2)" in page
    assert "Paul" in page
