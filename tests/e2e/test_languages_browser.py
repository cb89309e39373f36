"""The golden path in each language, with the browser's language set, and axe-core on each page.

A browser whose language is English, then one whose language is French, walks the order flow:
log in, the session list, a new session, each step of a line (one with a field error), the
check page, the confirmation and its final state, then the exports page; a back-office user's
browser opens the reconciliation page and the admin index. On each page `<html lang>` is the
browser's language, the visible text holds only that language's words from the catalogue, and
axe-core finds no serious or critical violation. The language switch is used once: the other
language, kept on the next page (a cookie), then back.

Locators use field ids, and the texts of the catalogue in the run's language (`tr`), so that
both runs follow the same path. Celery runs inline (tests/conftest.py); the worker's poll after
the confirmation is played by calling the task, as in test_confirm_browser.py.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import pytest
from browser_checks import BROWSER_LOCALES, assert_accessible, assert_speaks, tr
from django.urls import reverse
from django.utils import timezone
from factories import PASSWORD, back_office_user, sales_user
from order_data import fill_line
from playwright.sync_api import expect

from covage.sandbox.models import ProductOrder
from orders import services, tasks
from orders.models import OrderLine, OrderSession
from orders.services.referentials import refresh_referentials

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OTHER = {"en": "fr", "fr": "en"}


@pytest.fixture
def portal(sandbox_url: str) -> str:
    refresh_referentials()
    return sandbox_url


@pytest.fixture
def open_browser(browser: Any, browser_context_args: dict[str, Any]):
    """A new browser (context) whose language is the given one; closed after the test."""
    contexts = []

    def open_in(language: str) -> Any:
        context = browser.new_context(**browser_context_args, locale=BROWSER_LOCALES[language])
        contexts.append(context)
        return context.new_page()

    yield open_in
    for context in contexts:
        context.close()


class Walk:
    """One browser's walk: each page reached is checked for its language and by axe-core."""

    def __init__(self, page: Any, language: str, vocabulary: Any) -> None:
        self.page, self.language, self.vocabulary = page, language, vocabulary

    def t(self, msgid: str, plural: str | None = None, **values: Any) -> str:
        return tr(self.language, msgid, plural, **values)

    def check(self, where: str, *, own_text: bool = True) -> None:
        assert_speaks(self.page, self.language, self.vocabulary, where, own_text=own_text)
        assert_accessible(self.page, f"{where} ({self.language})")

    def button(self, msgid: str, **values: Any) -> Any:
        return self.page.get_by_role("button", name=self.t(msgid, **values), exact=True)

    def link(self, msgid: str, **values: Any) -> Any:
        return self.page.get_by_role("link", name=self.t(msgid, **values), exact=True)

    def wait_step(self, step: str) -> None:
        self.page.wait_for_url(re.compile(rf".*/lines/\d+/{step}/(#[\w-]*)?$"))

    def log_in(self, base: str, user: Any, target: str) -> None:
        self.page.goto(base + target)
        self.page.wait_for_url(re.compile(r".*/login/.*"))
        if self.vocabulary is not None:
            self.check("the login page")
        self.page.locator("#id_username").fill(user.username)
        self.page.locator("#id_password").fill(PASSWORD)
        self.button("Log in").click()
        self.page.wait_for_url(base + target)

    def switch_language(self, language: str) -> None:
        switch = self.page.locator("#navbar-language")
        switch.select_option(language)
        switch.locator("xpath=ancestor::form").get_by_role("button").click()
        self.page.wait_for_load_state()
        expect(self.page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_golden_path_in_the_browsers_language(open_browser, portal, vocabulary, language):
    user = sales_user(first_name="Zoé", last_name="Ménard")
    external_id = f"E2E-LANGUE-{language.upper()}"
    delivery = timezone.localdate() + dt.timedelta(days=30)
    walk = Walk(open_browser(language), language, vocabulary)
    page = walk.page

    walk.log_in(portal, user, reverse("orders:list"))
    walk.check("the session list (empty)")

    # The switch: the other language, kept on the next page, then back.
    other = OTHER[language]
    walk.switch_language(other)
    assert page.url == portal + reverse("orders:list")
    assert_speaks(page, other, vocabulary, "the session list after the switch")
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert cookies.get("django_language") == other
    page.goto(portal + reverse("exports:list"))
    assert_speaks(page, other, vocabulary, "the next page after the switch")
    walk.switch_language(language)
    assert page.url == portal + reverse("exports:list")
    walk.check("the exports page (nothing exported yet)")
    page.goto(portal + reverse("orders:list"))

    # A new session.
    walk.link("Start a new session").first.click()
    page.wait_for_url(re.compile(r".*/orders/new/$"))
    walk.check("the new session page")
    page.locator("#id_external_id").fill(external_id)
    page.locator("#id_project_id").select_option("PRJ-2024-017")
    walk.button("Create session").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    walk.check("the session page (no line)")
    session = OrderSession.objects.get(external_id=external_id)

    # A line, step by step.
    walk.button("Add a line").click()
    walk.wait_step("offer")
    walk.check("the Offer step")
    page.locator("#id_product_offering_id").fill("2173")
    page.locator("#id_product_offering_qualification_item_id").fill("d5a4a9aa-ba2c-4f53")
    page.locator("#id_offer_family").select_option("BPE")
    page.locator("#id_offer_technology").fill("FIBDE")
    page.locator("input[name='option_ids'][value='7021']").check()
    page.locator("#id_other_option_ids").fill("7010")
    walk.button("Next").click()

    walk.wait_step("technical")
    walk.check("the Technical step")
    page.locator("#id_delivery_mode").select_option("ENNI_DEDIE")
    expect(page.locator("#id_enni option[value='CN012410']")).to_have_count(0)
    page.locator("#id_enni").select_option("CN012345")
    page.locator("#id_vlan_reference").fill("1257")
    page.locator("#id_cpe_networking_number").fill("NET-123456")
    page.locator("#id_cpe_serial_number").fill("SR-123456")
    page.locator("#id_scheduled_delivery_date").fill(delivery.isoformat())
    walk.button("Next").click()

    walk.wait_step("customer")
    walk.check("the Customer step")
    page.locator("#id_end_customer_name").fill("Boulangerie Ça Déménage")
    page.locator("#id_siret_known").check()
    page.locator("#id_siret").fill("732 829 320 00074")
    page.locator("#id_contact1_firstname").fill("Gérard")
    page.locator("#id_contact1_lastname").fill("Lefèvre")
    page.locator("#id_contact1_email_address").fill("gerard@example.fr")
    page.locator("#id_contact1_phone_number").fill("01 23 45 67 89")
    walk.button("Next").click()

    walk.wait_step("address")
    walk.check("the Address step")
    page.locator("#id_street_number").fill("4")
    page.locator("#id_street_name").fill("Rue Andreï Sakharov")
    page.locator("#id_city").fill("Mont-Saint-Aignan")
    page.locator("#id_insee_code").fill("76451")
    page.locator("#id_latitude").fill("49,4744077" if language == "fr" else "49.4744077")
    page.locator("#id_longitude").fill("1,091455" if language == "fr" else "1.091455")
    # A wrong postcode: the error is on the field, announced with it.
    page.locator("#id_postcode").fill("7613")
    walk.button("Save draft").click()
    postcode = page.locator("#id_postcode")
    expect(postcode).to_have_attribute("aria-invalid", "true")
    described = (postcode.get_attribute("aria-describedby") or "").split()
    errors = [page.locator(f"#{name}").inner_text() for name in described]
    assert any(text.strip() for text in errors), "the postcode's error is tied to the field"
    walk.check("the Address step with an error")
    postcode.fill("76130")
    walk.button("Next").click()

    walk.wait_step("review")
    walk.check("the Review step")
    page.locator("#id_note").fill("Livraison à l'accueil, merci !")
    walk.button("Save and close").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    line = OrderLine.objects.get(session=session)
    expect(page.locator(f"#line-{line.pk}")).to_contain_text(walk.t("Saved at Covage"))
    walk.check("the session page (one line, saved at Covage)")

    # The check, then the confirmation.
    walk.link("Check and confirm").click()
    page.wait_for_url(re.compile(r".*/check/$"))
    summary = walk.t(
        "Every line is complete: %(counter)s line ready to be confirmed at Covage.",
        "Every line is complete: %(counter)s lines ready to be confirmed at Covage.",
        counter=1,
    )
    expect(page.locator("#check-summary")).to_have_text(summary)
    walk.check("the check page")
    walk.button("Confirm session").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    session.refresh_from_db()
    if session.remote_state not in {"completed", "partial", "rejected", "failed"}:
        tasks.poll_session.run(session.pk)
    decided = walk.t(
        "%(decided)s of %(counter)s line decided",
        "%(decided)s of %(counter)s lines decided",
        decided=1,
        counter=1,
    )
    expect(page.locator("#confirmation-progress")).to_contain_text(decided, timeout=15000)
    expect(page.locator("#confirmation-progress")).to_contain_text(
        walk.t("Covage has decided every line.")
    )
    # The live region outside the polled lines says it too.
    expect(page.locator("#session-status")).to_contain_text(decided)
    line.refresh_from_db()
    remote = ProductOrder.objects.get(uid=session.covage_id)
    session.refresh_from_db()
    assert session.remote_state == remote.state
    expect(page.locator(f"#line-{line.pk}")).to_contain_text(line.remote_state)
    walk.check("the session page (confirmed)")

    walk.link('View<span class="visually-hidden"> line %(position)s</span>', position=1).click()
    page.wait_for_url(re.compile(r".*/lines/\d+/$"))
    walk.check("a line of a confirmed session")

    page.goto(portal + reverse("exports:list"))
    walk.check("the exports page")

    # The back office: the reconciliation page and the admin index, in the same language.
    staff = Walk(open_browser(language), language, vocabulary)
    staff.log_in(portal, back_office_user(), reverse("reconciliation:list"))
    staff.check("the reconciliation page")
    staff.page.goto(portal + reverse("admin:index"))
    # Django's admin speaks Django's own catalogue: only the other language's words are checked.
    staff.check("the admin index", own_text=False)


def test_the_other_pages_of_a_line_and_the_account_are_accessible(page, portal):
    """axe-core on the pages the golden path does not reach: a line's delete and replace pages,
    the session list filtered to nothing, and the two-factor set-up page."""
    user = sales_user()
    session = services.create_session(user=user, external_id="E2E-AXE")
    line = fill_line(user, session)
    walk = Walk(page, "en", None)
    walk.log_in(portal, user, reverse("orders:list"))
    page.locator("#id_search").fill("no such customer")
    expect(page.locator("#session-results-status")).to_have_text(
        walk.t("No session matches these filters.")
    )
    assert_accessible(page, "the session list filtered to nothing")
    for name in ("orders:delete_line", "orders:replace_line"):
        page.goto(portal + reverse(name, args=[session.pk, line.pk]))
        assert_accessible(page, name)
    page.goto(portal + reverse("two_factor_enrol"))
    assert_accessible(page, "the two-factor set-up page")
