"""A line for a new site of a customer already in the directory, from the keyboard alone,
against the sandbox over real HTTP (Covage and the BAN's address search).

It counts what a salesperson types or picks (at most 10 values, from "Add a line" to a line
that passes the check), and, separately, the buttons pressed (Enter on a button, or in a
field to go to the next step) and the Tab presses that move between fields. No mouse click.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import pytest
from browser_checks import assert_accessible
from django.urls import reverse
from factories import PASSWORD, sales_user
from playwright.sync_api import expect

from covage.sandbox.models import ProductOrderItem
from directory import services as directory_services
from orders import services as order_services
from orders.confirmation import check_session
from orders.models import LineContact, OrderLine
from orders.services.referentials import refresh_referentials

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MAX_TABS = 120
SCREENSHOTS = os.environ.get("ORDER_SCREENSHOTS", "")


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, name), full_page=True)


@dataclass
class Effort:
    values: list[str] = field(default_factory=list)  # typed or picked
    presses: list[str] = field(default_factory=list)  # buttons pressed (the "clicks")
    tabs: int = 0


@pytest.fixture
def portal(sandbox_url, settings):
    refresh_referentials()
    settings.ADDRESS_SEARCH_URL = sandbox_url + "/ban"
    return sandbox_url


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement ? document.activeElement.id : ''")


def tab_to(page, effort: Effort, locator) -> None:
    """Tab through the page until `locator` has the focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        effort.tabs += 1
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{locator} never got the focus")


def type_value(page, effort: Effort, locator, text: str, what: str) -> None:
    tab_to(page, effort, locator)
    page.keyboard.type(text)
    effort.values.append(f"typed {what}")


def press(page, effort: Effort, locator, what: str) -> None:
    tab_to(page, effort, locator)
    page.keyboard.press("Enter")
    effort.presses.append(what)


def wait_step(page, step):
    page.wait_for_url(re.compile(rf".*/lines/\d+/{step}/(\?[^#]*)?(#[\w-]*)?$"))


def test_a_new_site_of_a_directory_customer_in_ten_values_from_the_keyboard(page, portal):
    user = sales_user(first_name="Zoé", last_name="Ménard")
    customer = directory_services.create_customer(
        user=user,
        values={
            "name": "Boulangerie Ça Déménage",
            "siret": "73282932000074",
            "business_code": "AB123",
        },
    )
    # The customer's known site is in Lyon: the line is for a new site.
    directory_services.add_site(
        user=user,
        customer=customer,
        values={
            "street_number": "12",
            "street_name": "Rue de l'Église",
            "postcode": "69003",
            "city": "Lyon",
            "insee_code": "69383",
        },
    )
    for first, last, email, phone in (
        ("Gérard", "Lefèvre", "gerard@example.fr", "01 23 45 67 89"),
        ("Anne", "Roy", "anne@example.fr", "06 12 34 56 78"),
    ):
        directory_services.add_contact(
            user=user,
            customer=customer,
            values={
                "firstname": first,
                "lastname": last,
                "email_address": email,
                "phone_number": phone,
            },
        )
    session = order_services.create_session(user=user, external_id="E2E-ANNUAIRE-1")
    effort = Effort()

    # Log in from the keyboard (not part of the line's effort).
    page.goto(portal + reverse("login"))
    expect(page.get_by_label("Username")).to_be_focused()  # autofocus
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/orders/$"))
    page.goto(portal + reverse("orders:session", args=[session.pk]))

    press(page, effort, page.get_by_role("button", name="Add a line"), "Add a line")
    wait_step(page, "offer")
    type_value(page, effort, page.locator("#id_product_offering_id"), "2173", "offering id")
    type_value(
        page,
        effort,
        page.locator("#id_product_offering_qualification_item_id"),
        "d5a4a9aa-ba2c",
        "qualification id",
    )
    page.keyboard.press("Enter")  # Enter in a field: Next
    effort.presses.append("Next (Enter in a field)")

    wait_step(page, "technical")
    enni = page.locator("#id_enni")
    tab_to(page, effort, enni)
    page.keyboard.type("CN012345")  # a select picks the option its typed letters begin
    expect(enni).to_have_value("CN012345")
    effort.values.append("picked ENNI")
    type_value(page, effort, page.locator("#id_vlan_reference"), "1257", "VLAN")
    page.keyboard.press("Enter")
    effort.presses.append("Next (Enter in a field)")

    wait_step(page, "customer")
    type_value(page, effort, page.locator("#directory-search"), "déménage", "customer search")
    result = page.locator("#directory-results button", has_text="Boulangerie Ça Déménage")
    expect(result).to_be_visible()
    assert_accessible(page, "customer step, directory results")
    page.keyboard.press("ArrowDown")
    expect(result).to_be_focused()
    page.keyboard.press("Enter")
    effort.values.append("picked customer")
    effort.presses.append("pick customer")
    wait_step(page, "customer")
    expect(page.locator("#id_end_customer_name")).to_have_value("Boulangerie Ça Déménage")
    expect(page.locator("#id_siret")).to_have_value("73282932000074")

    press(
        page,
        effort,
        page.get_by_role("button", name="Use Gérard Lefèvre as the on-site contact"),
        "pick contact",
    )
    effort.values.append("picked on-site contact")
    wait_step(page, "customer")
    expect(page.locator("#id_contact1_phone_number")).to_have_value("+33123456789")

    # A second contact: another entry of related_contact_information.
    press(
        page,
        effort,
        page.get_by_role("button", name="Add Anne Roy as another contact entry"),
        "add contact",
    )
    effort.values.append("picked second contact")
    wait_step(page, "customer")
    expect(page.locator("#id_contacts-0-contact1_firstname")).to_have_value("Anne")
    assert_accessible(page, "customer step with two contact entries")
    screenshot(page, "directory_customer_step.png")
    # Still editable: the values are ordinary fields.
    expect(page.locator("#id_contact1_firstname")).to_be_editable()
    press(page, effort, page.get_by_role("button", name="Next", exact=True), "Next")

    wait_step(page, "address")
    type_value(
        page, effort, page.locator("#address-search-input"), "4bis sakharov", "address search"
    )
    address = page.locator("#address-results button", has_text="4bis Rue Andreï Sakharov 76130")
    expect(address).to_be_visible()
    assert_accessible(page, "address step with results")
    screenshot(page, "directory_address_step.png")
    page.keyboard.press("ArrowDown")
    expect(address).to_be_focused()
    page.keyboard.press("Enter")
    effort.values.append("picked address")
    effort.presses.append("pick address")
    wait_step(page, "address")
    expect(page.locator("#id_street_number")).to_have_value("4")
    expect(page.locator("#id_street_number_extension")).to_have_value("bis")
    expect(page.locator("#id_insee_code")).to_have_value("76451")
    expect(page.locator("#id_latitude")).to_have_value("49.474431")
    press(
        page,
        effort,
        page.get_by_role("button", name="Save and return to the session"),
        "Save and return",
    )
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))

    press(page, effort, page.get_by_role("link", name="Check and confirm"), "Check")
    page.wait_for_url(re.compile(r".*/check/$"))
    expect(page.locator("#check-summary")).to_contain_text("Every line is complete")

    line = OrderLine.objects.get(session=session)
    assert check_session(session) == []
    entries = list(LineContact.objects.filter(line=line).order_by("position"))
    assert [(e.contact1_firstname, e.postcode) for e in entries] == [
        ("Gérard", "76130"),
        ("Anne", "76130"),
    ]
    assert (line.enni, line.vlan_reference, entries[0].longitude) == ("CN012345", 1257, 1.091502)
    # Covage (the sandbox, over HTTP) has both contact entries, each with the site.
    remote = ProductOrderItem.objects.get().data["related_contact_information"]
    assert [(entry["contact1_firstname"], entry["insee_code"]) for entry in remote] == [
        ("Gérard", "76451"),
        ("Anne", "76451"),
    ]

    print(
        f"\nEffort: {len(effort.values)} values typed or picked ({', '.join(effort.values)}); "
        f"{len(effort.presses)} buttons pressed, the clicks ({', '.join(effort.presses)}); "
        f"{effort.tabs} Tab presses; 0 mouse clicks."
    )
    assert len(effort.values) <= 10

    # The directory's own page, from its search: the customer and its contacts.
    page.goto(portal + reverse("directory:list") + "?q=demenage")
    tab_to(page, Effort(), page.get_by_role("link", name="Boulangerie Ça Déménage"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/directory/\d+/$"))
    expect(page.get_by_text("Anne Roy")).to_be_visible()
    assert_accessible(page, "directory entry")
