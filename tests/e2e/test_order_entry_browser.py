"""Golden path of order entry in a real browser, against the sandbox over real HTTP.

A salesperson logs in, creates a session, fills a line step by step (the keyboard's Enter
goes to the next step), reloads and reopens steps without losing anything, sees the check
page list what is missing, follows its link to fix it, and finds the line at Covage (the
sandbox) with every value typed, accents included. Celery runs the sync inline right after
each commit (tests/conftest.py), inside the request.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import PASSWORD, sales_user
from playwright.sync_api import expect

from covage.sandbox.models import ProductOrder, ProductOrderItem
from orders.models import OrderLine, OrderSession, SyncStatus
from orders.services.referentials import refresh_referentials

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that it is safe (it is: the loop is Playwright's).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("ORDER_SCREENSHOTS", "")


@pytest.fixture
def portal(sandbox_url):
    """The live server's URL, serving the portal and the sandbox, with the sandbox's projects
    and ENNIs stored as the background refresh stores them (pages never read Covage)."""
    refresh_referentials()
    return sandbox_url


def log_in(page, base_url, user):
    page.goto(base_url + reverse("orders:list"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/orders/$"))


def wait_step(page, step):
    page.wait_for_url(re.compile(rf".*/lines/\d+/{step}/(#[\w-]*)?$"))


def test_fill_a_line_through_every_step_and_find_it_at_covage(page, portal):
    user = sales_user(first_name="Zoé", last_name="Ménard")
    delivery = timezone.localdate() + dt.timedelta(days=30)
    log_in(page, portal, user)

    # The empty list invites to start.
    assert page.get_by_text("No order sessions yet").is_visible()
    page.get_by_role("link", name="Start a new session").first.click()
    page.get_by_label("External id").fill("E2E-CAFÉ-1")
    # The projects come from Covage's referential.
    page.get_by_label("Project").select_option("PRJ-2024-017")
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    assert page.get_by_text("Order session E2E-CAFÉ-1 created.").is_visible()
    session = OrderSession.objects.get(external_id="E2E-CAFÉ-1")
    assert session.owner == user and session.project_id == "PRJ-2024-017"

    page.get_by_role("button", name="Add a line").click()
    wait_step(page, "offer")
    page.get_by_label("Product offering identifier").fill("2173")
    page.get_by_label("Eligibility (qualification item) identifier").fill("d5a4a9aa-ba2c-4f53")
    page.get_by_label("Offer family").select_option("BPE")
    page.get_by_label("Offer technology").fill("FIBDE")
    page.get_by_label("CPE supplied by Covage (7021)").check()
    page.get_by_label("Other option identifiers").fill("7010")
    page.get_by_role("button", name="Next").click()

    wait_step(page, "technical")
    # 7021 was chosen: the CPE fields are there. Changing the delivery mode reloads the ENNIs.
    enni = page.get_by_label("ENNI (collection port)", exact=True)
    assert enni.locator("option[value='CN012410']").count() == 1  # BPE, any delivery mode
    page.get_by_label("Delivery mode").select_option("ENNI_DEDIE")
    # A locator assertion, not wait_for_function: the page's CSP refuses the eval it uses.
    expect(page.locator("#id_enni option[value='CN012410']")).to_have_count(0)
    assert enni.locator("option[value='CN012346']").count() == 0  # a BPEA port
    page.get_by_label("ENNI (collection port)", exact=True).select_option("CN012345")
    page.get_by_label("VLAN", exact=True).fill("1257")
    page.get_by_label("CPE networking number").fill("NET-123456")
    page.get_by_label("CPE serial number").fill("SR-123456")
    page.get_by_label("Scheduled delivery date").fill(delivery.isoformat())
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "technical_step.png"), full_page=True)
    # Enter in a field is "Next".
    page.get_by_label("CPE serial number").press("Enter")

    wait_step(page, "customer")
    page.get_by_label("End customer name").fill("Boulangerie Ça Déménage")
    page.get_by_label("SIRET known").check()
    page.get_by_label("SIRET number").fill("732 829 320 00074")
    page.get_by_label("On-site contact first name").fill("Gérard")
    page.get_by_label("On-site contact last name").fill("Lefèvre")
    page.get_by_label("On-site contact e-mail").fill("gerard@example.fr")
    page.get_by_label("On-site contact phone").fill("01 23 45 67 89")
    page.get_by_role("button", name="Next").click()

    wait_step(page, "address")
    page.get_by_label("Street name").fill("Rue Andreï Sakharov")
    page.get_by_label("City").fill("Mont-Saint-Aignan")
    # A wrong postcode: the message is on the field, and nothing typed is lost.
    page.get_by_label("Postcode").fill("7613")
    page.get_by_role("button", name="Save draft").click()
    assert page.get_by_text("Enter a French postcode of 5 digits").is_visible()
    assert page.get_by_label("Postcode").input_value() == "7613"
    assert page.get_by_label("Street name").input_value() == "Rue Andreï Sakharov"
    page.get_by_label("Postcode").fill("76130")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector("text=Draft saved at")

    # The browser closes in the middle of the line: everything is there when it comes back.
    page.reload()
    assert page.get_by_label("Street name").input_value() == "Rue Andreï Sakharov"
    assert page.get_by_label("Postcode").input_value() == "76130"
    page.get_by_role("button", name="Back").click()
    wait_step(page, "customer")
    assert page.get_by_label("End customer name").input_value() == "Boulangerie Ça Déménage"
    assert page.get_by_label("On-site contact phone").input_value() == "+33123456789"
    assert page.get_by_label("SIRET known").is_checked()

    # The check lists what is still missing, each a link to the step that fixes it.
    page.get_by_role("button", name="Save and return to the session").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "session_page.png"), full_page=True)
    page.get_by_role("link", name="Check and confirm").click()
    page.wait_for_url(re.compile(r".*/check/$"))
    problems = page.locator("#check-summary").inner_text()
    assert "problems to fix" in problems
    assert page.get_by_role("link", name="INSEE code").is_visible()
    page.get_by_role("link", name="Street number").click()
    wait_step(page, "address")
    assert page.url.endswith("#id_street_number")
    page.get_by_label("Street number", exact=True).fill("4")
    page.get_by_label("Street number extension").fill("B")
    page.get_by_label("Building name").fill("Bâtiment É")
    page.get_by_label("INSEE code").fill("76451")
    page.get_by_label("Latitude").fill("49,4744077")
    page.get_by_label("Longitude").fill("1.091455")
    page.get_by_label("Access instructions").fill("Prendre la grande porte, côté cour")
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "step_page.png"), full_page=True)
    page.get_by_role("button", name="Next").click()

    wait_step(page, "review")
    assert page.get_by_text("Boulangerie Ça Déménage").first.is_visible()
    assert page.get_by_text("CPE supplied by Covage (7021), 7010").is_visible()
    page.get_by_label("Note", exact=True).fill("Livraison à l'accueil, merci !")
    page.get_by_role("button", name="Save and close").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))

    # Synced at Covage (the sync ran inline after the last save).
    line = OrderLine.objects.get(session=session)
    page.wait_for_selector("#session-lines >> text=Saved at Covage")
    assert line.sync_status == SyncStatus.SYNCED and line.covage_id

    page.get_by_role("link", name="Check and confirm").click()
    assert page.get_by_text("Every line is complete").is_visible()
    assert page.get_by_role("button", name="Confirm session").is_visible()

    remote_session = ProductOrder.objects.get()
    assert remote_session.external_id == "E2E-CAFÉ-1"
    assert remote_session.project_id == "PRJ-2024-017"
    data = ProductOrderItem.objects.get(product_order=remote_session).data
    expected = {
        "product_offering_id": "2173",
        "product_offering_qualification_item_id": "d5a4a9aa-ba2c-4f53",
        "offer_family": "BPE",
        "offer_technology": "FIBDE",
        "delivery_mode": "ENNI_DEDIE",
        "enni": "CN012345",
        "cpe_networking_number": "NET-123456",
        "cpe_serial_number": "SR-123456",
        "end_customer_name": "Boulangerie Ça Déménage",
        "siret_known": True,
        "note": "Livraison à l'accueil, merci !",
        "access_instructions": "Prendre la grande porte, côté cour",
    }
    for key, value in expected.items():
        assert data[key] == value, key
    assert str(data["vlan_reference"]) == "1257"
    assert sorted(data["option_ids"]) == ["7010", "7021"]
    assert str(data["scheduled_delivery_date"]) == delivery.isoformat()
    contact = data["related_contact_information"][0]
    expected_contact = {
        "end_customer_name": "Boulangerie Ça Déménage",
        "siret": "73282932000074",
        "contact1_firstname": "Gérard",
        "contact1_lastname": "Lefèvre",
        "contact1_email_address": "gerard@example.fr",
        "contact1_phone_number": "0123456789",
        "street_number": "4",
        "street_number_extension": "B",
        "street_name": "Rue Andreï Sakharov",
        "building_name": "Bâtiment É",
        "postcode": "76130",
        "city": "Mont-Saint-Aignan",
        "insee_code": "76451",
    }
    for key, value in expected_contact.items():
        assert contact[key] == value, key
    assert contact["latitude"] == pytest.approx(49.4744077)

    # The list filters as one types (htmx), and the URL keeps the search.
    page.goto(portal + reverse("orders:list"))
    page.get_by_role("searchbox", name="Search").fill("ça déménage")
    page.wait_for_url(re.compile(r".*search=.*"))
    assert page.locator("#session-results").get_by_role("link", name="E2E-CAFÉ-1").is_visible()
    page.get_by_role("searchbox", name="Search").fill("no such customer")
    page.wait_for_selector("text=No session matches these filters.")
    page.get_by_role("searchbox", name="Search").fill("")
    page.wait_for_selector("#session-results >> text=E2E-CAFÉ-1")
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "session_list.png"), full_page=True)

    # A second line: a copy of the first for another customer of the same building.
    page.get_by_role("link", name="E2E-CAFÉ-1").click()
    page.get_by_role("button", name="Duplicate line 1").click()
    page.wait_for_selector("text=Line 1 duplicated as line 2.")
    page.get_by_role("link", name="Edit line 2").click()
    wait_step(page, "offer")
    page.get_by_role("button", name="3. End customer and contacts").click()
    wait_step(page, "customer")
    page.get_by_label("End customer name").fill("Fromagerie Æsir & Œuf")
    page.get_by_label("On-site contact first name").fill("Anaïs")
    page.get_by_label("On-site contact phone").fill("06 12 34 56 78")
    page.get_by_role("button", name="Save and return to the session").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    page.wait_for_selector("#session-lines >> text=Fromagerie Æsir & Œuf")

    second = OrderLine.objects.get(session=session, position=2)
    assert second.sync_status == SyncStatus.SYNCED
    items = ProductOrderItem.objects.filter(product_order=remote_session)
    assert items.count() == 2
    copy = items.get(uid=second.covage_id).data
    for key, value in expected.items():
        if key != "end_customer_name":
            assert copy[key] == value, key
    assert copy["end_customer_name"] == "Fromagerie Æsir & Œuf"
    copy_contact = copy["related_contact_information"][0]
    for key, value in expected_contact.items():
        if key not in {"end_customer_name", "contact1_firstname", "contact1_phone_number"}:
            assert copy_contact[key] == value, key
    assert copy_contact["contact1_firstname"] == "Anaïs"
    assert copy_contact["contact1_phone_number"] == "0612345678"
