"""The order-entry screens: lists, sessions, the line in steps, the check page.

These run without Covage: the sync is queued on commit, and in these (non-transactional)
tests the commit never happens, so a line stays as the view saved it. Referentials come from
the store (`cached_referentials`), or are typed before it holds them (`no_referentials`).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import back_office_user, sales_user

from orders import services
from orders.models import LineContact, OrderEvent, OrderLine, OrderSession, SyncStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached_referentials")]


def body(response) -> str:
    return response.content.decode()


def step_url(line, step: str) -> str:
    return reverse("orders:line_step", args=[line.session_id, line.pk, step])


def form_values(page: str) -> dict[str, str]:
    """The values of the text inputs of a rendered page, by name."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value:
            values[name.group(1)] = value.group(1)
    return values


# --- Sessions list ---------------------------------------------------------------------------


def test_empty_state_offers_to_start_a_session(client):
    client.force_login(sales_user())
    page = body(client.get(reverse("orders:list")))
    assert "No order sessions yet — " in page
    assert f'href="{reverse("orders:new")}">Start a new session' in page


def test_list_shows_own_sessions_only_and_back_office_all(client, session_factory):
    alice, bob = sales_user(), sales_user()
    session_factory(owner=alice, external_id="ALICE-1")
    session_factory(owner=bob, external_id="BOB-1")
    client.force_login(alice)
    page = body(client.get(reverse("orders:list")))
    assert "ALICE-1" in page and "BOB-1" not in page
    client.force_login(back_office_user())
    page = body(client.get(reverse("orders:list")))
    assert "ALICE-1" in page and "BOB-1" in page


def test_search_and_filters(client, session_factory, line_factory):
    user = sales_user()
    fromagerie = session_factory(owner=user, external_id="S-FROMAGE")
    line_factory(session=fromagerie, end_customer_name="Fromagerie Crème Brûlée")
    confirmed = session_factory(
        owner=user, external_id="S-OTHER", remote_state="completed", sync_status="confirmed"
    )
    line_factory(session=confirmed, end_customer_name="Boulangerie")
    client.force_login(user)
    url = reverse("orders:list")

    page = body(client.get(url, {"search": "crème brûlée"}))
    assert "S-FROMAGE" in page and "S-OTHER" not in page
    page = body(client.get(url, {"remote_state": "completed"}))
    assert "S-OTHER" in page and "S-FROMAGE" not in page
    # The filters show what they filter on.
    assert '<option value="completed" selected>' in page
    assert '<option value="" selected>' in page  # sync status: any
    page = body(client.get(url, {"sync_status": "draft"}))
    assert "S-FROMAGE" in page and "S-OTHER" not in page
    assert '<option value="draft" selected>' in page
    page = body(client.get(url, {"search": "nothing like it"}))
    assert "No session matches these filters." in page


def test_date_filter_and_bad_values_are_ignored(client, session_factory):
    user = sales_user()
    old = session_factory(owner=user, external_id="S-OLD")
    OrderSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    session_factory(owner=user, external_id="S-NEW")
    client.force_login(user)
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    page = body(client.get(reverse("orders:list"), {"date_from": since}))
    assert "S-NEW" in page and "S-OLD" not in page
    assert f'name="date_from" id="id_date_from" value="{since}"' in page
    response = client.get(reverse("orders:list"), {"date_from": "not a date", "page": "x"})
    assert response.status_code == 200
    assert "S-NEW" in body(response) and "S-OLD" in body(response)


def test_pagination_25_per_page(client, session_factory):
    user = sales_user()
    session_factory.create_batch(30, owner=user)
    client.force_login(user)
    first = body(client.get(reverse("orders:list")))
    assert first.count('href="/orders/') - first.count("/orders/new/") >= 25
    assert "30 sessions · page 1 of 2" in first
    second = body(client.get(reverse("orders:list"), {"page": 2}))
    assert "page 2 of 2" in second
    assert second.count("<tr>") == 1 + 5  # header row + 5 sessions


def test_the_list_costs_two_queries_whatever_its_length(
    client, session_factory, line_factory, django_assert_num_queries
):
    """The user with their roles and second factor, the page's sessions with their line
    counts (the session itself comes from the cache; a list longer than a page adds its
    count)."""
    user = sales_user()
    for _ in range(5):
        line_factory.create_batch(3, session=session_factory(owner=user))
    client.force_login(user)
    client.get(reverse("orders:list"))  # the first page after the login stamps the session
    with django_assert_num_queries(2):
        page = body(client.get(reverse("orders:list")))
    assert page.count(">3</td>") == 5
    session_factory.create_batch(25, owner=user)
    with django_assert_num_queries(3):
        assert "30 sessions · page 1 of 2" in body(client.get(reverse("orders:list")))
    # The first five, the oldest, are on the second page, still counted.
    with django_assert_num_queries(3):
        second = body(client.get(reverse("orders:list"), {"page": 2}))
    assert second.count(">3</td>") == 5


def test_htmx_gets_the_results_alone_with_vary(client, session_factory):
    user = sales_user()
    session_factory(owner=user, external_id="S-HTMX")
    client.force_login(user)
    full = client.get(reverse("orders:list"))
    partial = client.get(reverse("orders:list"), {"search": "HTMX"}, HTTP_HX_REQUEST="true")
    assert "HX-Request" in full["Vary"] and "HX-Request" in partial["Vary"]
    assert "<html" in body(full) and "<html" not in body(partial)
    assert body(partial).lstrip().startswith('<section id="session-results"')
    assert "S-HTMX" in body(partial)
    # The filter form asks for the partial while typing.
    assert 'hx-target="#session-results"' in body(full)
    # A history restore needs the whole page.
    restore = client.get(
        reverse("orders:list"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in body(restore)


# --- New session -----------------------------------------------------------------------------


def test_new_session_with_project_from_the_referential(client):
    user = sales_user()
    client.force_login(user)
    page = body(client.get(reverse("orders:new")))
    assert "Leave empty to let the portal number it" in page
    assert '<option value="PRJ-2024-001"' in page

    response = client.post(reverse("orders:new"), {"external_id": "", "project_id": "PRJ-2024-001"})

    session = OrderSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:session", args=[session.pk])
    assert session.owner == user and session.project_id == "PRJ-2024-001"
    assert session.external_id.startswith("CP-")


def test_new_session_external_id_must_be_unique(client, session_factory):
    session_factory(external_id="MINE-42")
    client.force_login(sales_user())
    response = client.post(reverse("orders:new"), {"external_id": "mine-42", "project_id": ""})
    assert response.status_code == 200
    assert "An order session with this external id already exists" in body(response)
    assert OrderSession.objects.count() == 1


def test_new_session_takes_a_typed_project_before_the_list_is_stored(
    client, offline_covage, no_referentials
):
    client.force_login(sales_user())
    page = body(client.get(reverse("orders:new")))
    assert "Covage's list of projects is not available yet: type the project code." in page
    assert '<input type="text" name="project_id"' in page
    client.post(reverse("orders:new"), {"external_id": "FREE-1", "project_id": "PRJ-TYPED"})
    assert OrderSession.objects.get(external_id="FREE-1").project_id == "PRJ-TYPED"


# --- Session page: lines and their actions -------------------------------------------------


def test_session_page_lists_lines_with_states_and_actions(client, session_factory, line_factory):
    user = sales_user()
    session = session_factory(owner=user)
    line_factory(
        session=session,
        position=1,
        end_customer_name="Crêperie Ty Breizh",
        remote_state="created",
        temporary_reference="TMP-0001",
        sync_status=SyncStatus.SYNCED,
    )
    line_factory(
        session=session,
        position=2,
        sync_status=SyncStatus.SYNC_FAILED,
        last_sync_error="Covage is unavailable (HTTP 503).",
    )
    client.force_login(user)
    page = body(client.get(reverse("orders:session", args=[session.pk])))
    assert "Crêperie Ty Breizh" in page and "TMP-0001" in page
    assert "Saved at Covage" in page and "Not saved at Covage" in page
    assert f'action="{reverse("orders:retry_sync", args=[session.pk])}"' in page
    assert ">Retry<" in page
    assert f'action="{reverse("orders:add_line", args=[session.pk])}"' in page
    assert reverse("orders:check", args=[session.pk]) in page
    assert "Duplicate" in page and "Delete" in page
    # Nothing is syncing: no polling.
    assert 'hx-trigger="every 2s"' not in page


def test_lines_poll_while_syncing_and_stop_after(client, session_factory, line_factory):
    user = sales_user()
    session = session_factory(owner=user)
    line = line_factory(session=session, sync_status=SyncStatus.SYNCING)
    client.force_login(user)
    page = body(client.get(reverse("orders:session", args=[session.pk])))
    partial_url = reverse("orders:session_lines", args=[session.pk])
    assert f'hx-get="{partial_url}" hx-trigger="every 2s"' in page
    assert 'aria-live="polite"' in page

    OrderLine.objects.filter(pk=line.pk).update(sync_status=SyncStatus.SYNCED)
    partial = body(client.get(partial_url, HTTP_HX_REQUEST="true"))
    assert "<html" not in partial and "Saved at Covage" in partial
    assert "every 2s" not in partial


def test_retry_sync_requeues(client, session_factory, line_factory):
    user = sales_user()
    session = session_factory(owner=user)
    line = line_factory(session=session, sync_status=SyncStatus.SYNC_FAILED)
    client.force_login(user)
    response = client.post(reverse("orders:retry_sync", args=[session.pk]))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.sync_status == SyncStatus.SYNCING
    assert OrderEvent.objects.filter(session=session, action="sync_requested").exists()


def test_add_line_opens_its_offer_step(client, session_factory):
    user = sales_user()
    session = session_factory(owner=user)
    client.force_login(user)
    response = client.post(reverse("orders:add_line", args=[session.pk]))
    line = session.lines.get()
    assert response["Location"] == step_url(line, "offer")
    assert client.get(reverse("orders:add_line", args=[session.pk])).status_code == 405


def test_duplicate_line(client, session_factory, complete_line):
    user = sales_user()
    session = session_factory(owner=user)
    line = complete_line(session=session, position=1, end_customer_name="Hôtel des Àlpes")
    client.force_login(user)
    response = client.post(
        reverse("orders:duplicate_line", args=[session.pk, line.pk]), follow=True
    )
    assert "Line 1 duplicated as line 2." in body(response)
    copy = session.lines.exclude(pk=line.pk).get()
    assert copy.end_customer_name == "Hôtel des Àlpes"
    assert copy.contacts.get().city == "Mont-Saint-Aignan"


def test_delete_line_asks_first(client, session_factory, line_factory):
    user = sales_user()
    session = session_factory(owner=user)
    line = line_factory(session=session, position=3, end_customer_name="Café Zoé")
    client.force_login(user)
    url = reverse("orders:delete_line", args=[session.pk, line.pk])
    page = body(client.get(url))
    assert "Delete line 3 (Café Zoé)?" in page
    assert OrderLine.objects.filter(pk=line.pk).exists()

    response = client.post(url, follow=True)

    assert "Line 3 deleted." in body(response)
    assert not OrderLine.objects.filter(pk=line.pk, deleted_at__isnull=True).exists()
    # A deleted line is gone from every URL.
    assert client.get(step_url(line, "offer")).status_code == 404


def test_copy_rejected_lines(client, session_factory, complete_line):
    user = sales_user()
    session = session_factory(owner=user, sync_status=SyncStatus.CONFIRMED, remote_state="partial")
    complete_line(session=session, position=1, remote_state="acknowledged")
    complete_line(
        session=session, position=2, remote_state="rejected_creation", end_customer_name="Épicerie"
    )
    client.force_login(user)
    page = body(client.get(reverse("orders:session", args=[session.pk])))
    assert "Copy rejected lines to a new session" in page

    response = client.post(reverse("orders:copy_rejected", args=[session.pk]))

    new = OrderSession.objects.exclude(pk=session.pk).get()
    assert response["Location"] == reverse("orders:session", args=[new.pk])
    assert [line.end_customer_name for line in new.lines.all()] == ["Épicerie"]


def test_history_lists_events(client, session_factory):
    user = sales_user(first_name="Zoé", last_name="Lefèvre")
    client.force_login(user)
    client.post(reverse("orders:new"), {"external_id": "HIST-1"})
    session = OrderSession.objects.get(external_id="HIST-1")
    client.post(reverse("orders:add_line", args=[session.pk]))
    page = body(client.get(reverse("orders:session", args=[session.pk])))
    history = page.split('id="history-heading"')[1]
    assert "Zoé Lefèvre" in history and "Line added" in history


# --- A line in steps -------------------------------------------------------------------------


@pytest.fixture
def draft(session_factory):
    """A fresh line of a sales user's session, as "Add a line" makes it."""
    user = sales_user()
    session = session_factory(owner=user)
    line = services.add_line(user=user, session=session)
    return user, line


OFFER_DATA = {
    "product_offering_id": "2173",
    "product_offering_qualification_item_id": "d5a4a9aa-ba2c",
    "quote_item_id": "",
    "offer_family": "BPE",
    "offer_technology": "FIBDE",
    "option_ids": ["7021"],
    "other_option_ids": "7010, 7033",
    "project_id": "PRJ-2024-001",
    "external_id": "MY-LINE-1",
}


def post_step(client, line, step, data, nav="next"):
    line.refresh_from_db()
    payload = {"version": line.version, "nav": nav, **data}
    return client.post(step_url(line, step), payload)


def test_every_step_renders_with_its_labels(client, draft):
    user, line = draft
    client.force_login(user)
    expected = {
        "offer": [
            "Product offering identifier",
            "Eligibility (qualification item) identifier",
            "CPE supplied by Covage (7021)",
            "Other option identifiers",
        ],
        "technical": [
            "Delivery mode",
            "ENNI (collection port)",
            "VLAN",
            "Scheduled delivery date",
        ],
        "customer": [
            "End customer name",
            "SIRET known",
            "SIRET number",
            "On-site contact first name",
            "Second contact phone",
        ],
        "address": ["Street number", "Postcode", "INSEE code", "not its postcode", "Latitude"],
        "review": ["Note", "Technical note", "Save and close"],
    }
    for step, labels in expected.items():
        response = client.get(step_url(line, step))
        assert response.status_code == 200, step
        page = body(response)
        for label in labels:
            assert label in page, (step, label)
        assert f'name="version" value="{line.version}"' in page
        # All five steps are in the navigation, the current one marked.
        assert page.count('name="goto"') >= 5
        assert 'aria-current="step"' in page


def test_next_button_comes_first_so_enter_goes_forward(client, draft):
    user, line = draft
    client.force_login(user)
    page = body(client.get(step_url(line, "technical")))
    form = page.split('id="step-form"')[1]
    buttons = re.findall(r'<button type="submit" name="(nav|goto)" value="(\w+)"', form)
    assert buttons[0] == ("nav", "next")
    actions = [value for name, value in buttons if name == "nav"]
    assert actions[1:] == ["next", "save", "back", "close"]


def test_offer_step_saves_and_goes_next(client, draft):
    user, line = draft
    client.force_login(user)
    response = post_step(client, line, "offer", OFFER_DATA)
    assert response.status_code == 302
    assert response["Location"] == step_url(line, "technical")
    line.refresh_from_db()
    assert line.product_offering_id == "2173"
    assert line.option_ids == ["7021", "7010", "7033"]
    assert line.project_id == "PRJ-2024-001" and line.external_id == "MY-LINE-1"
    # Reopened, the step shows what was saved.
    page = body(client.get(step_url(line, "offer")))
    assert (
        'value="7021" checked' in page
        or 'checked value="7021"' in page
        or re.search(r'value="7021"[^>]*checked', page)
    )
    assert 'value="7010, 7033"' in page


def test_back_saves_then_goes_to_the_previous_step(client, draft):
    user, line = draft
    client.force_login(user)
    response = post_step(
        client, line, "customer", {"end_customer_name": "Boulangerie Pâtissière"}, nav="back"
    )
    assert response["Location"] == step_url(line, "technical")
    page = body(client.get(step_url(line, "customer")))
    assert 'value="Boulangerie Pâtissière"' in page
    line.refresh_from_db()
    assert line.end_customer_name == "Boulangerie Pâtissière"
    assert line.contacts.get(position=0).end_customer_name == "Boulangerie Pâtissière"


def test_save_draft_stays_and_step_nav_saves_before_leaving(client, draft):
    user, line = draft
    client.force_login(user)
    response = post_step(client, line, "address", {"city": "Évreux"}, nav="save")
    assert response["Location"] == step_url(line, "address")
    assert "Draft saved at" in body(client.get(response["Location"]))
    response = client.post(
        step_url(line, "address"),
        {"version": OrderLine.objects.get(pk=line.pk).version, "city": "Évry", "goto": "offer"},
    )
    assert response["Location"] == step_url(line, "offer")
    assert line.contacts.get().city == "Évry"


def test_wrong_formats_keep_everything_typed(client, draft):
    user, line = draft
    client.force_login(user)
    typed = {
        "end_customer_name": "Hôtel Étoile",
        "siret_known": "on",
        "siret": "73282932000075",
        "contact1_firstname": "Amélie",
        "contact1_email_address": "amelie@",
        "contact1_phone_number": "01 23 45 67 89",
    }
    response = post_step(client, line, "customer", typed)
    assert response.status_code == 200
    page = body(response)
    assert "This SIRET number is not valid" in page
    assert "Enter an e-mail address" in page
    assert "were not saved" in page
    values = form_values(page)
    for name in ("end_customer_name", "siret", "contact1_firstname", "contact1_email_address"):
        assert values[name] == typed[name], name
    # The valid values were saved (phone normalised); the wrong ones were not.
    line.refresh_from_db()
    contact = line.contacts.get()
    assert line.end_customer_name == "Hôtel Étoile" and line.siret_known is True
    assert contact.contact1_firstname == "Amélie"
    assert contact.contact1_phone_number == "+33123456789"
    assert contact.siret == "" and contact.contact1_email_address == ""
    # The form carries the new version: fixing the values saves at once.
    assert values["version"] == str(line.version)
    fixed = {**typed, "siret": "732 829 320 00074", "contact1_email_address": "amelie@example.fr"}
    response = client.post(step_url(line, "customer"), {**fixed, "version": values["version"]})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.siret == "73282932000074"


def test_address_formats(client, draft):
    user, line = draft
    client.force_login(user)
    response = post_step(
        client,
        line,
        "address",
        {"postcode": "7613", "insee_code": "2a004", "latitude": "49,4744", "longitude": "200"},
    )
    page = body(response)
    assert "Enter a French postcode of 5 digits" in page
    assert "A longitude is between -180 and 180 degrees." in page
    contact = line.contacts.get()
    assert contact.insee_code == "2A004" and contact.latitude == pytest.approx(49.4744)
    assert form_values(page)["postcode"] == "7613"


def test_technical_formats(client, draft):
    user, line = draft
    client.force_login(user)
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    page = body(
        post_step(
            client,
            line,
            "technical",
            {"vlan_reference": "4095", "scheduled_delivery_date": yesterday},
        )
    )
    assert "A VLAN number is between 1 and 4094." in page
    assert "The delivery date cannot be in the past." in page
    response = post_step(client, line, "technical", {"vlan_reference": "4094"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.vlan_reference == 4094


def test_stale_version_shows_a_conflict_and_keeps_the_typed_values(client, draft):
    user, line = draft
    client.force_login(user)
    opened_version = OrderLine.objects.get(pk=line.pk).version
    # Someone else saves the line meanwhile.
    services.save_line_step(
        user=user, line=line, step="review", data={"note": "Theirs"}, version=opened_version
    )
    response = client.post(
        step_url(line, "review"),
        {"version": opened_version, "note": "Mine, with accents: été", "nav": "close"},
    )
    assert response.status_code == 200
    page = body(response)
    saved_at = timezone.localtime(OrderLine.objects.get(pk=line.pk).updated_at)
    assert (
        f"Someone else saved this line at {saved_at:%H:%M}; your changes are below — "
        "review and save again" in page
    )
    assert "Mine, with accents: été" in page
    assert OrderLine.objects.get(pk=line.pk).note == "Theirs"
    # Saving again works: the form now carries the current version.
    version = form_values(page)["version"]
    assert version == str(OrderLine.objects.get(pk=line.pk).version)
    response = client.post(
        step_url(line, "review"),
        {"version": version, "note": "Mine, with accents: été", "nav": "close"},
    )
    assert response.status_code == 302
    assert OrderLine.objects.get(pk=line.pk).note == "Mine, with accents: été"


def test_the_save_service_checks_the_model_fields_and_takes_only_typed_fields(draft):
    from orders.services.drafts import save_line
    from orders.services.errors import InvalidLineError

    user, line = draft
    with pytest.raises(InvalidLineError) as refused:
        save_line(
            user=user,
            line=line,
            data={"enni": "X" * 65},
            contact_data={"contact1_email_address": "pas-une-adresse"},
            version=line.version,
        )
    assert set(refused.value.field_errors) == {"enni", "contact1_email_address"}
    assert OrderLine.objects.get(pk=line.pk).version == line.version
    # What Covage owns, or the portal's bookkeeping, is never written by a save.
    with pytest.raises(ValueError):
        save_line(user=user, line=line, data={"covage_id": "x"}, version=line.version)


def test_two_lines_in_two_tabs_never_mix(client, session_factory):
    user = sales_user()
    session = session_factory(owner=user)
    first = services.add_line(user=user, session=session)
    second = services.add_line(user=user, session=session)
    client.force_login(user)
    # Both forms opened, then submitted in the other order.
    page_one = form_values(body(client.get(step_url(first, "review"))))
    page_two = form_values(body(client.get(step_url(second, "review"))))
    client.post(step_url(second, "review"), {"version": page_two["version"], "note": "Deux"})
    client.post(step_url(first, "review"), {"version": page_one["version"], "note": "Un"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.note, second.note) == ("Un", "Deux")


def test_dia_hides_and_clears_the_enni(client, draft):
    user, line = draft
    OrderLine.objects.filter(pk=line.pk).update(offer_family="DIA", enni="CN012345")
    client.force_login(user)
    page = body(client.get(step_url(line, "technical")))
    assert "Covage sets the ENNI for the DIA offer" in page
    assert 'name="enni"' not in page and 'name="enni_2"' not in page
    response = post_step(
        client, line, "technical", {"enni": "CN012345", "enni_2": "X", "vlan_reference": "12"}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.enni, line.enni_2, line.vlan_reference) == ("", "", 12)


def test_enni_choices_follow_offer_family_and_delivery_mode(client, draft):
    user, line = draft
    OrderLine.objects.filter(pk=line.pk).update(offer_family="BPE")
    client.force_login(user)
    page = body(client.get(step_url(line, "technical")))
    enni_select = page.split('name="enni"')[1].split("</select>")[0]
    assert "CN012345" in enni_select and "CN012410" in enni_select
    assert "CN012346" not in enni_select  # a BPEA port
    assert (
        'hx-get="{}"'.format(reverse("orders:enni_options", args=[line.session_id, line.pk]))
        in page
    )

    partial = body(
        client.get(
            reverse("orders:enni_options", args=[line.session_id, line.pk]),
            {"delivery_mode": "ENNI_MUTUALISE", "enni": "CN012410"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert partial.lstrip().startswith('<div id="enni-fields"')
    assert "CN012410" in partial and "CN012345" not in partial
    assert re.search(r'value="CN012410"[^>]*selected', partial)


def test_enni_is_typed_before_the_list_is_stored(client, draft, offline_covage, no_referentials):
    user, line = draft
    client.force_login(user)
    page = body(client.get(step_url(line, "technical")))
    assert "Covage's list of ENNIs is not available yet: type the ENNI reference." in page
    assert '<input type="text" name="enni"' in page
    post_step(client, line, "technical", {"enni": "CN999999", "delivery_mode": "ENNI_DEDIE"})
    line.refresh_from_db()
    assert line.enni == "CN999999" and line.delivery_mode == "ENNI_DEDIE"


def test_cpe_fields_only_with_option_7021(client, draft):
    user, line = draft
    client.force_login(user)
    page = body(client.get(step_url(line, "technical")))
    assert 'name="cpe_networking_number"' not in page
    assert "The CPE fields appear when option 7021" in page

    # Sent anyway without the option: refused with a clear message, nothing saved.
    page = body(post_step(client, line, "technical", {"cpe_networking_number": "NET-1"}))
    assert "CPE details only apply with option 7021" in page
    line.refresh_from_db()
    assert line.cpe_networking_number == ""

    OrderLine.objects.filter(pk=line.pk).update(option_ids=["7021"])
    page = body(client.get(step_url(line, "technical")))
    assert 'name="cpe_networking_number"' in page and 'name="cpe_serial_number"' in page
    post_step(
        client,
        line,
        "technical",
        {"cpe_networking_number": "NET-123456", "cpe_serial_number": "SR-123456"},
    )
    line.refresh_from_db()
    assert (line.cpe_networking_number, line.cpe_serial_number) == ("NET-123456", "SR-123456")

    # The option removed on the offer step: saving the technical step clears the CPE values.
    OrderLine.objects.filter(pk=line.pk).update(option_ids=[])
    page = body(client.get(step_url(line, "technical")))
    assert "are removed when you save this step" in page
    post_step(client, line, "technical", {})
    line.refresh_from_db()
    assert (line.cpe_networking_number, line.cpe_serial_number) == ("", "")


def test_covage_field_errors_show_on_their_step(client, draft):
    user, line = draft
    OrderLine.objects.filter(pk=line.pk).update(
        sync_status=SyncStatus.SYNC_FAILED,
        remote_errors={
            "related_contact_information[0].postcode": ["Unknown postcode."],
            "enni": ["This ENNI does not exist."],
        },
    )
    client.force_login(user)
    page = body(client.get(step_url(line, "address")))
    assert "Covage: Unknown postcode." in page
    assert 'id="id_postcode"' in page and "is-invalid" in page
    # Both steps are flagged in the navigation.
    assert page.count("(Covage refused a value here)") == 2
    page = body(client.get(step_url(line, "technical")))
    assert "Covage: This ENNI does not exist." in page
    session_page = body(client.get(reverse("orders:session", args=[line.session_id])))
    assert "Covage refused:" in session_page


def test_review_summarises_every_step_with_edit_buttons(client, draft):
    user, line = draft
    OrderLine.objects.filter(pk=line.pk).update(end_customer_name="Bistrot Chez Léon")
    LineContact.objects.filter(line=line).update(city="Saint-Étienne")
    client.force_login(user)
    page = body(client.get(step_url(line, "review")))
    assert "Bistrot Chez Léon" in page and "Saint-Étienne" in page
    for step in ("offer", "technical", "customer", "address"):
        assert f'name="goto" value="{step}" class="btn btn-sm btn-link">Edit' in page
    response = post_step(client, line, "review", {"note": "À rappeler"}, nav="close")
    assert response["Location"] == reverse("orders:session", args=[line.session_id])


def test_locked_session_lines_are_read_only(client, session_factory, complete_line):
    user = sales_user()
    session = session_factory(owner=user, sync_status=SyncStatus.CONFIRMING)
    line = complete_line(session=session, note="Avant")
    client.force_login(user)
    response = client.get(step_url(line, "review"))
    assert response["Location"] == reverse("orders:line", args=[session.pk, line.pk])
    page = body(client.get(response["Location"]))
    assert "read-only" in page and "Avant" in page and 'name="goto"' not in page

    response = client.post(
        step_url(line, "review"), {"version": line.version, "note": "Après"}, follow=True
    )
    assert "can no longer be changed" in body(response)
    line.refresh_from_db()
    assert line.note == "Avant"
    session_page = body(client.get(reverse("orders:session", args=[session.pk])))
    assert "Duplicate" not in session_page and "Add a line" not in session_page
    # The services refuse too, and the view says so instead of failing.
    response = client.post(reverse("orders:add_line", args=[session.pk]), follow=True)
    assert response.status_code == 200 and "can no longer be changed" in body(response)
    response = client.post(reverse("orders:delete_line", args=[session.pk, line.pk]), follow=True)
    assert response.status_code == 200
    assert OrderLine.objects.filter(pk=line.pk, deleted_at__isnull=True).exists()


# --- Check and confirm -----------------------------------------------------------------------


def test_check_lists_problems_by_line_with_links(client, session_factory, line_factory):
    user = sales_user()
    session = session_factory(owner=user)
    line = line_factory(
        session=session, position=1, product_offering_id="", option_ids=["7021"], enni=""
    )
    client.force_login(user)
    page = body(client.get(reverse("orders:check", args=[session.pk])))
    assert "problems to fix before the session can be confirmed" in page
    assert "Line 1" in page
    assert (
        f'href="{step_url(line, "offer")}#id_product_offering_id">Product offering identifier</a>'
        in page
    )
    assert f'href="{step_url(line, "technical")}#id_enni">ENNI (collection port)</a>' in page
    assert f'href="{step_url(line, "technical")}#id_cpe_networking_number"' in page
    assert f'href="{step_url(line, "customer")}#id_end_customer_name"' in page
    assert "Confirm session" not in page


def test_check_of_an_empty_session(client, session_factory):
    user = sales_user()
    session = session_factory(owner=user)
    client.force_login(user)
    page = body(client.get(reverse("orders:check", args=[session.pk])))
    assert "Add at least one line before confirming." in page


def test_confirm_with_problems_shows_them_and_changes_nothing(
    client, session_factory, line_factory
):
    user = sales_user()
    session = session_factory(owner=user)
    line_factory(session=session, product_offering_id="")
    client.force_login(user)
    response = client.post(reverse("orders:confirm", args=[session.pk]))
    assert response.status_code == 200
    assert "Product offering identifier" in body(response)
    session.refresh_from_db()
    assert session.sync_status == SyncStatus.DRAFT


def test_clean_session_is_confirmed(client, session_factory, complete_line):
    user = sales_user()
    session = session_factory(owner=user)
    complete_line(session=session)
    client.force_login(user)
    page = body(client.get(reverse("orders:check", args=[session.pk])))
    assert "ready to be confirmed" in page
    assert f'action="{reverse("orders:confirm", args=[session.pk])}"' in page

    response = client.post(reverse("orders:confirm", args=[session.pk]), follow=True)

    assert "is being confirmed at Covage" in body(response)
    session.refresh_from_db()
    assert session.sync_status == SyncStatus.CONFIRMING
    assert client.get(reverse("orders:confirm", args=[session.pk])).status_code == 405
