"""The directory's writes and reads: search, duplicates, saving a line's customer, the
visibility of contacts, the back office's merge and delete, and the history's authors."""

from __future__ import annotations

import pytest
from directory_data import SITE
from factories import back_office_user, sales_user

from directory import selectors, services
from directory.models import CustomerSite, DirectoryContact, DirectoryEvent, EndCustomer

pytestmark = pytest.mark.django_db

LINE_CUSTOMER = {
    "end_customer_name": "Boulangerie Ça Déménage",
    "business_code": "AB123",
    "billing_site_ref": "AUX99",
    "access_instructions": "Code 1234, porte de gauche",
}
LINE_CONTACT = {
    "end_customer_name": "Boulangerie Ça Déménage",
    "siret": "73282932000074",
    "contact1_firstname": "Gérard",
    "contact1_lastname": "Lefèvre",
    "contact1_email_address": "gerard@example.fr",
    "contact1_phone_number": "+33123456789",
    **SITE,
}


def customer(user, name="Fromagerie Émile", siret="", **values):
    return services.create_customer(user=user, values={"name": name, "siret": siret, **values})


def test_search_by_name_without_accents_siret_city_and_postcode():
    user = sales_user()
    emile = customer(user, "Fromagerie Émile", "73282932000074")
    services.add_site(user=user, customer=emile, values={**SITE})
    other = customer(user, "Garage Dupont")
    services.add_site(
        user=user,
        customer=other,
        values={"postcode": "69003", "city": "Lyon", "street_name": "Rue de l'Église"},
    )

    assert selectors.search_customers("fromagerie emile") == [emile]
    assert selectors.search_customers("ÉMILE") == [emile]
    assert selectors.search_customers("7328 2932") == [emile]
    assert selectors.search_customers("saint aignan") == [emile]
    assert selectors.search_customers("76130") == [emile]
    assert selectors.search_customers("69") == [other]
    assert selectors.search_customers("lyon") == [other]
    assert selectors.search_customers("nothing like it") == []
    assert selectors.search_customers("") == [emile, other]


def test_same_siret_or_same_name_and_postcode_is_offered_instead_of_a_copy():
    user = sales_user()
    emile = customer(user, "Fromagerie Émile", "73282932000074")
    services.add_site(user=user, customer=emile, values={**SITE})

    with pytest.raises(services.DuplicateCustomer) as same_siret:
        customer(user, "Another name", "732 829 320 00074")
    assert same_siret.value.existing == [emile]

    with pytest.raises(services.DuplicateCustomer) as same_name:
        services.create_customer(
            user=user, values={"name": "FROMAGERIE EMILE"}, postcodes=["76130"]
        )
    assert same_name.value.existing == [emile]

    # The same name elsewhere is another customer.
    elsewhere = services.create_customer(
        user=user, values={"name": "Fromagerie Émile"}, postcodes=["69003"]
    )
    assert elsewhere.pk != emile.pk


def test_a_line_customer_is_saved_with_its_site_and_people(make_line):
    user = sales_user()
    line = make_line(
        user,
        line=LINE_CUSTOMER,
        contact={**LINE_CONTACT, "contact2_firstname": "Anne", "contact2_lastname": "Roy"},
    )

    saved = services.save_line_customer(user=user, line=line)

    assert saved.created
    entry = saved.customer
    assert (entry.name, entry.siret, entry.business_code, entry.billing_site_ref) == (
        "Boulangerie Ça Déménage",
        "73282932000074",
        "AB123",
        "AUX99",
    )
    (site,) = entry.sites.all()
    assert (site.street_number, site.street_number_extension, site.postcode, site.insee_code) == (
        "4",
        "B",
        "76130",
        "76451",
    )
    assert site.access_instructions == "Code 1234, porte de gauche"
    people = {(c.firstname, c.lastname, c.email_address) for c in entry.contacts.all()}
    assert people == {("Gérard", "Lefèvre", "gerard@example.fr"), ("Anne", "Roy", "")}
    assert all(c.created_by == user for c in entry.contacts.all())


def test_saving_a_line_of_a_known_customer_offers_it_then_adds_only_what_it_lacks(make_line):
    user = sales_user()
    first = make_line(user, line=LINE_CUSTOMER, contact=LINE_CONTACT)
    existing = services.save_line_customer(user=user, line=first).customer
    second = make_line(
        user,
        line=LINE_CUSTOMER,
        contact={
            **LINE_CONTACT,
            "street_number": "12",
            "street_number_extension": "",
            "contact2_firstname": "Anne",
            "contact2_email_address": "anne@example.fr",
        },
    )

    with pytest.raises(services.DuplicateCustomer) as offered:
        services.save_line_customer(user=user, line=second)
    assert offered.value.existing == [existing]
    assert EndCustomer.objects.count() == 1

    added = services.save_line_customer(user=user, line=second, into=existing)
    assert not added.created
    assert [site.street_number for site in added.sites] == ["12"]
    assert [contact.firstname for contact in added.contacts] == ["Anne"]  # Gérard is known
    assert existing.sites.count() == 2 and existing.contacts.count() == 2


def test_contacts_are_seen_by_their_author_on_own_lines_and_by_the_back_office(make_line):
    alice, bob, carol = sales_user(), sales_user(), sales_user()
    entry = customer(alice)
    alices = services.add_contact(
        user=alice, customer=entry, values={"firstname": "Léa", "email_address": "Lea@Example.fr"}
    )
    bobs = services.add_contact(user=bob, customer=entry, values={"firstname": "Bob"})
    # Carol has Léa on one of her lines (the e-mail, in any case).
    make_line(carol, contact={"contact2_email_address": "lea@example.FR"})

    assert selectors.contacts_of(alice, entry) == [alices]
    assert selectors.contacts_of(bob, entry) == [bobs]
    assert selectors.contacts_of(carol, entry) == [alices]
    assert set(selectors.contacts_of(back_office_user(), entry)) == {alices, bobs}
    # The customer itself is shared.
    assert selectors.search_customers("fromagerie") == [entry]


def test_only_the_back_office_merges_and_deletes():
    seller, office = sales_user(), back_office_user()
    keep = customer(seller, "Fromagerie Émile", "73282932000074")
    other = customer(seller, "Fromagerie Emile (copie)", business_code="FR-9")
    services.add_site(user=seller, customer=other, values={**SITE})
    contact = services.add_contact(user=seller, customer=other, values={"firstname": "Léa"})

    with pytest.raises(services.NotAllowed):
        services.merge_customers(user=seller, keep=keep, others=[other])
    with pytest.raises(services.NotAllowed):
        services.delete_entry(user=seller, entry=contact)
    assert EndCustomer.objects.count() == 2

    merged = services.merge_customers(user=office, keep=keep, others=[other])
    assert list(EndCustomer.objects.all()) == [keep]
    assert merged.business_code == "FR-9"
    assert CustomerSite.objects.get().customer == keep
    assert DirectoryContact.objects.get().customer == keep

    services.delete_entry(user=office, entry=merged)
    assert not EndCustomer.objects.exists() and not DirectoryContact.objects.exists()


def test_every_change_has_its_author_and_no_personal_data_in_the_history():
    seller, office = sales_user(), back_office_user()
    entry = customer(seller, siret="73282932000074")
    contact = services.add_contact(
        user=seller, customer=entry, values={"firstname": "Léa", "phone_number": "06 12 34 56 78"}
    )
    services.update_entry(user=office, entry=contact, values={"phone_number": "01 23 45 67 89"})
    services.update_entry(user=seller, entry=entry, values={"business_code": "B-1"})
    services.delete_entry(user=office, entry=contact)

    events = list(DirectoryEvent.objects.order_by("pk"))
    assert [(e.action, e.kind, e.user) for e in events] == [
        ("created", "customer", seller),
        ("created", "contact", seller),
        ("changed", "contact", office),
        ("changed", "customer", seller),
        ("deleted", "contact", office),
    ]
    assert events[2].fields == ["Phone"]
    assert events[3].fields == ["Business code"]
    for event in events:
        stored = f"{event.fields} {event.detail}"
        assert "Léa" not in stored and "0123" not in stored and "+33" not in stored


def test_a_changed_siret_that_another_customer_has_is_refused():
    user = sales_user()
    customer(user, "A", "73282932000074")
    other = customer(user, "B")
    with pytest.raises(services.InvalidEntry):
        services.update_entry(user=user, entry=other, values={"siret": "73282932000074"})
    with pytest.raises(services.InvalidEntry):
        services.update_entry(user=user, entry=other, values={"siret": "123"})
