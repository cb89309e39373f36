"""Importing a session's lines from a sheet, in a real browser, against the sandbox.

A salesperson downloads the Excel template, fills three rows (one with a wrong postcode),
uploads it, sees the problem on its cell in the preview, fixes it there, imports, and the
three lines reach Covage (the sandbox) with their values, accents included. Celery runs the
sync inline right after the import's commit (tests/conftest.py).
"""

from __future__ import annotations

import os
import re

import pytest
from browser_checks import assert_accessible
from django.urls import reverse
from factories import sales_user
from openpyxl import load_workbook
from playwright.sync_api import expect

from bulk import columns
from covage.sandbox.models import ProductOrder, ProductOrderItem
from orders.models import OrderLine, SyncStatus
from orders.services import create_session
from orders.services.referentials import refresh_referentials

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(sandbox_url):
    refresh_referentials()
    return sandbox_url


def log_in(page, base_url, user):
    from factories import PASSWORD

    page.goto(base_url + reverse("orders:list"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/orders/$"))


def test_import_three_lines_fixing_one_in_the_preview(page, portal, tmp_path):
    user = sales_user()
    session = create_session(user=user, external_id="E2E-IMPORT", project_id="PRJ-2024-017")
    log_in(page, portal, user)
    page.goto(portal + reverse("orders:session", args=[session.pk]))
    page.get_by_role("link", name="Import from a sheet").click()
    page.wait_for_url(re.compile(r".*/import/$"))
    assert_accessible(page, "the import page")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the template (Excel)").click()
    template = tmp_path / "template.xlsx"
    download_info.value.save_as(template)

    workbook = load_workbook(template)
    sheet = workbook.worksheets[0]
    assert sheet.cell(1, 1).value == "Product offering identifier"
    example = [cell.value for cell in sheet[2]]
    customers = ["Boulangerie Ça Déménage", "Fromagerie Æsir & Œuf", "Crêperie Zoé"]
    postcode = columns.COLUMNS.index("postcode")
    customer = columns.COLUMNS.index("end_customer_name")
    for row_number, name in enumerate(customers, start=2):
        cells = list(example)
        cells[customer] = name
        if row_number == 4:
            cells[postcode] = "7613"
        for column, value in enumerate(cells, start=1):
            sheet.cell(row_number, column).value = value
    filled = tmp_path / "lines.xlsx"
    workbook.save(filled)

    page.get_by_label("Sheet to import").set_input_files(filled)
    page.get_by_role("button", name="Read the sheet").click()
    page.wait_for_url(re.compile(r".*/import/\d+/$"))
    expect(page.locator("#import-summary")).to_have_text("Valid rows: 2 of 3.")
    cell = page.get_by_label("Postcode, row 4")
    expect(cell).to_have_value("7613")
    error_id = cell.get_attribute("aria-describedby")
    expect(page.locator(f"#{error_id}")).to_contain_text("Enter a French postcode of 5 digits")
    assert_accessible(page, "the import preview")
    assert not OrderLine.objects.exists()

    cell.fill("76130")
    page.locator("#row-2").get_by_role("button", name="Fix").click()
    expect(page.locator("#import-summary")).to_have_text("Valid rows: 3 of 3.")
    expect(page.locator("#row-2")).to_contain_text("76130")
    # The keyboard stays on the row that was fixed.
    expect(page.locator("#row-2 th")).to_be_focused()

    page.get_by_label("All rows, or none if any row has a problem").check()
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    expect(page.get_by_text("3 lines imported: they are being sent to Covage.")).to_be_visible()
    page.wait_for_selector("#session-lines >> text=Crêperie Zoé")

    lines = list(OrderLine.objects.filter(session=session).order_by("position"))
    assert len(lines) == 3
    assert all(line.sync_status == SyncStatus.SYNCED and line.covage_id for line in lines)
    remote = ProductOrder.objects.get(external_id="E2E-IMPORT")
    items = {
        item.data["end_customer_name"]: item.data
        for item in ProductOrderItem.objects.filter(product_order=remote)
    }
    assert sorted(items) == sorted(customers)
    contact = items["Crêperie Zoé"]["related_contact_information"][0]
    assert contact["postcode"] == "76130"
    assert contact["street_name"] == "Rue Andreï Sakharov"
    assert contact["contact1_phone_number"] == "0123456789"
