"""The back office's admin: sessions with their lines and contacts, history with authors,
and the actions that talk to Covage (through the sandbox).

Every write the admin makes goes through the services: a line is saved like a step (its
checks, its version, its fixed offer, the sync), deleted like in the portal (at Covage too).
Pages are submitted as a browser would: every field of the rendered form, as rendered.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse
from factories import UserFactory, back_office_user, sales_user
from order_data import fill_line

from covage.sandbox.models import ProductOrder, ProductOrderItem
from orders import services
from orders.models import LineContact, OrderEvent, OrderLine, OrderSession, SyncStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def confirmed_session(sandbox_url):
    """A session of one complete line that Covage has (sent through the sandbox)."""
    user = sales_user(first_name="Éloïse")
    session = services.create_session(user=user, external_id="ADMIN-ÉTÉ")
    fill_line(user, session)
    return session


def superuser(**kwargs: Any) -> Any:
    return UserFactory(is_staff=True, is_superuser=True, **kwargs)


class FormFields(HTMLParser):
    """What a browser submits for the form with id `form_id`: enabled fields only, checked
    boxes, selected options, textareas' text."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self.select: dict[str, Any] | None = None
        self.textarea: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        disabled = "disabled" in a
        if tag == "input" and not disabled and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value") or "on"))
                return
            self.pairs.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self.select = {
                "name": a.get("name"),
                "skip": disabled,
                "multiple": "multiple" in a,
                "selected": [],
                "first": None,
            }
        elif tag == "option" and self.select is not None:
            value = a.get("value") or ""
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in a:
                self.select["selected"].append(value)
        elif tag == "textarea":
            self.textarea = {"name": a.get("name"), "skip": disabled, "text": ""}

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            select, self.select = self.select, None
            if select["skip"] or not select["name"]:
                return
            values = select["selected"] or ([] if select["multiple"] else [select["first"]])
            self.pairs.extend((select["name"], value) for value in values)
        elif tag == "textarea" and self.textarea is not None:
            area, self.textarea = self.textarea, None
            if not area["skip"] and area["name"]:
                text = area["text"]
                text = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
                self.pairs.append((area["name"], text))

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea["text"] += data

    def data(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for name, value in self.pairs:
            result.setdefault(name, []).append(value)
        return result


def form_data(page: str, form_id: str = "orderline_form") -> dict[str, list[str]]:
    parser = FormFields(form_id)
    parser.feed(page)
    return parser.data()


def line_url(line: OrderLine) -> str:
    return reverse("admin:orders_orderline_change", args=[line.pk])


def open_line(client: Any, line: OrderLine) -> dict[str, list[str]]:
    response = client.get(line_url(line))
    assert response.status_code == 200
    return form_data(response.content.decode())


def errors_of(response: Any) -> Any:
    return response.context["adminform"].form.errors if response.context else None


# --- Reading ------------------------------------------------------------------------------------


def test_back_office_sees_sessions_lines_contacts_and_history(client, confirmed_session):
    client.force_login(back_office_user())
    changelist = client.get(reverse("admin:orders_ordersession_changelist") + "?q=ÉTÉ")
    assert changelist.status_code == 200 and "ADMIN-ÉTÉ" in changelist.content.decode()

    change = client.get(reverse("admin:orders_ordersession_change", args=[confirmed_session.pk]))
    body = change.content.decode()
    assert change.status_code == 200 and "Pâtisserie Gérard" in body

    line = confirmed_session.lines.get()
    line_page = client.get(line_url(line))
    assert line_page.status_code == 200 and "Rue Andreï Sakharov" in line_page.content.decode()

    history = client.get(reverse("admin:orders_orderline_history", args=[line.pk]))
    assert history.status_code == 200
    # Staff read the history; they do not revert it.
    assert "View history: ADMIN-ÉTÉ · line 1" in history.content.decode()
    assert line.history.count() >= 5  # created, then one version per step and sync


def test_session_lines_are_read_only_with_a_link_to_each_line(client, confirmed_session):
    client.force_login(back_office_user())
    line = confirmed_session.lines.get()
    page = client.get(
        reverse("admin:orders_ordersession_change", args=[confirmed_session.pk])
    ).content.decode()
    data = form_data(page, "ordersession_form")
    # Nothing of a line can be typed, added or deleted from the session's page (only the
    # hidden ids that name the row are there).
    assert {name for name in data if name.startswith("lines-0-")} <= {
        "lines-0-id",
        "lines-0-session",
    }
    assert "lines-0-DELETE" not in data
    assert data["lines-TOTAL_FORMS"] == ["1"] and data["lines-MAX_NUM_FORMS"] == ["0"]
    assert f'href="{line_url(line)}"' in page
    # Only the owner is edited on a session; the rest is the services' to change.
    editable = {name for name in data if "-" not in name} - {"csrfmiddlewaretoken"}
    assert editable == {"owner"}


# --- Saving a line ------------------------------------------------------------------------------


def test_a_correction_goes_through_the_service_and_reaches_covage(client, confirmed_session):
    agent = back_office_user(first_name="Bruno")
    client.force_login(agent)
    line = confirmed_session.lines.get()
    version = line.version
    data = open_line(client, line)
    assert data["opened_version"] == [str(version)]
    data.update(customer_order_name=["Corrigé par le back office"], city=["Évreux"])

    response = client.post(line_url(line), data)

    assert response.status_code == 302, errors_of(response)
    line.refresh_from_db()
    assert line.customer_order_name == "Corrigé par le back office"
    assert line.contacts.get(position=0).city == "Évreux"
    assert line.version == version + 1
    # The sync ran (queued on commit): Covage has both values, the line is clean again.
    assert line.sync_status == SyncStatus.SYNCED and line.synced_version == line.version
    remote = ProductOrderItem.objects.get(uid=line.covage_id)
    assert remote.data["customer_order_name"] == "Corrigé par le back office"
    assert remote.data["related_contact_information"][0]["city"] == "Évreux"
    # Who did it: the event and the history name the agent.
    event = OrderEvent.objects.filter(line=line, action="line_saved").latest("pk")
    assert event.user == agent and "Correction in the admin" in event.message_text
    assert line.history.filter(customer_order_name="Corrigé par le back office").earliest(
        "history_date"
    ).history_user == (agent)


def test_an_unchanged_save_changes_nothing(client, confirmed_session):
    client.force_login(back_office_user())
    line = confirmed_session.lines.get()
    response = client.post(line_url(line), open_line(client, line))
    assert response.status_code == 302, errors_of(response)
    assert OrderLine.objects.get(pk=line.pk).version == line.version


def test_a_stale_version_is_a_conflict_not_an_overwrite(client, confirmed_session):
    client.force_login(back_office_user())
    line = confirmed_session.lines.get()
    data = open_line(client, line)
    # The salesperson saves the line while the agent is editing it.
    services.save_line_step(
        user=confirmed_session.owner,
        line=line,
        step="review",
        data={"note": "Celle de la vendeuse", "technical_note": ""},
        version=line.version,
    )
    data.update(note=["Celle du back office"])

    response = client.post(line_url(line), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Not saved: someone else saved this line at" in page
    assert "Celle du back office" in page  # what the agent typed is still there
    current = OrderLine.objects.get(pk=line.pk)
    assert current.note == "Celle de la vendeuse"
    # After review, saving again is a decision made on the current version: it goes through.
    again = form_data(page)
    assert again["opened_version"] == [str(current.version)]
    response = client.post(line_url(line), again)
    assert response.status_code == 302, errors_of(response)
    assert OrderLine.objects.get(pk=line.pk).note == "Celle du back office"


def test_wrong_values_are_refused_on_their_fields(client, confirmed_session):
    client.force_login(back_office_user())
    line = confirmed_session.lines.get()
    data = open_line(client, line)
    data.update(postcode=["7613"], vlan_reference=["5000"], contact1_email_address=["gérard@"])

    response = client.post(line_url(line), data)

    assert response.status_code == 200
    errors = errors_of(response)
    assert "Enter a French postcode of 5 digits" in str(errors["postcode"])
    assert "A VLAN number is between 1 and 4094." in str(errors["vlan_reference"])
    assert "contact1_email_address" in errors
    assert OrderLine.objects.get(pk=line.pk).version == line.version
    assert line.contacts.get(position=0).postcode == "76130"
    # The step forms' normalisations apply too: a SIRET typed with spaces is stored digits.
    data = open_line(client, line)
    data.update(siret=["732 829 320 00074"], postcode=["76 130"], vlan_reference=["42"])
    response = client.post(line_url(line), data)
    assert response.status_code == 302, errors_of(response)
    contact = line.contacts.get(position=0)
    assert (contact.siret, contact.postcode) == ("73282932000074", "76130")
    assert OrderLine.objects.get(pk=line.pk).vlan_reference == 42


def test_the_offer_of_a_line_at_covage_is_fixed(client, confirmed_session):
    client.force_login(back_office_user())
    line = confirmed_session.lines.get()
    assert line.covage_id
    page = client.get(line_url(line)).content.decode()
    assert "Covage cannot change the offer of a line it already has" in page
    assert reverse("orders:replace_line", args=[confirmed_session.pk, line.pk]) in page
    data = form_data(page)
    assert "offer_family" not in data  # shown disabled: a browser does not send it
    # A page opened before the line reached Covage still sends it: refused on the field.
    data.update(offer_family=["DIA"], note=["Avec une autre offre"])

    response = client.post(line_url(line), data)

    assert response.status_code == 200
    assert "Covage cannot change the offer" in str(errors_of(response)["offer_family"])
    current = OrderLine.objects.get(pk=line.pk)
    assert (current.offer_family, current.note, current.version) == ("BPE", "", line.version)
    # The same save without the offer goes through, the offer kept.
    del data["offer_family"]
    response = client.post(line_url(line), data)
    assert response.status_code == 302, errors_of(response)
    current.refresh_from_db()
    assert (current.offer_family, current.note) == ("BPE", "Avec une autre offre")


def test_a_locked_session_refuses_corrections(client, confirmed_session):
    client.force_login(back_office_user())
    line = confirmed_session.lines.get()
    data = open_line(client, line)
    OrderSession.objects.filter(pk=confirmed_session.pk).update(sync_status=SyncStatus.CONFIRMING)
    data.update(note=["Trop tard"])

    response = client.post(line_url(line), data)

    assert response.status_code == 200
    assert "its lines can no longer be changed" in response.content.decode()
    assert OrderLine.objects.get(pk=line.pk).note == ""
    page = client.get(line_url(line)).content.decode()
    assert "its lines can no longer be changed" in page  # said on opening too
    # Nor can its lines be deleted.
    assert (
        client.post(
            reverse("admin:orders_orderline_delete", args=[line.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_contacts_are_read_only_but_the_first_one_is_corrected_with_the_line(
    client, confirmed_session
):
    client.force_login(back_office_user())
    line = confirmed_session.lines.get()
    LineContact.objects.create(line=line, position=1, city="Dieppe")
    page = client.get(line_url(line)).content.decode()
    data = form_data(page)
    assert "Dieppe" in page
    assert {n for n in data if n.startswith("contacts-0-")} <= {"contacts-0-id", "contacts-0-line"}
    assert "contact1_firstname" in data and data["city"] == ["Mont-Saint-Aignan"]


def test_nothing_is_added_from_the_admin(client, confirmed_session):
    client.force_login(superuser())
    assert client.get(reverse("admin:orders_orderline_add")).status_code == 403
    assert client.get(reverse("admin:orders_ordersession_add")).status_code == 403


# --- Deleting -----------------------------------------------------------------------------------


def test_deleting_a_line_deletes_it_at_covage(client, confirmed_session):
    agent = back_office_user()
    client.force_login(agent)
    line = confirmed_session.lines.get()
    url = reverse("admin:orders_orderline_delete", args=[line.pk])
    page = client.get(url).content.decode()
    assert "deleted at Covage by the sync" in page

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not ProductOrderItem.objects.filter(uid=line.covage_id).exists()
    assert not OrderLine.objects.filter(pk=line.pk).exists()  # forgotten once Covage deleted it
    deleted = OrderEvent.objects.get(session=confirmed_session, action="line_deleted")
    assert deleted.user == agent
    assert OrderEvent.objects.filter(
        session=confirmed_session, action="line_deleted_at_covage"
    ).exists()


def test_bulk_delete_of_lines_goes_through_the_service(client, confirmed_session):
    client.force_login(back_office_user())
    second = fill_line(confirmed_session.owner, confirmed_session)
    first = confirmed_session.lines.exclude(pk=second.pk).get()
    response = client.post(
        reverse("admin:orders_orderline_changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ProductOrderItem.objects.filter(uid__in=[first.covage_id, second.covage_id]).exists()
    assert not confirmed_session.lines.exists()


def test_a_session_at_covage_cannot_be_deleted(client, confirmed_session):
    confirmed_session.refresh_from_db()
    for user in (back_office_user(), superuser()):
        client.force_login(user)
        url = reverse("admin:orders_ordersession_delete", args=[confirmed_session.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"post": "yes"}).status_code == 403
        changelist = reverse("admin:orders_ordersession_changelist")
        selected = {"action": "delete_selected", "_selected_action": [confirmed_session.pk]}
        page = client.post(changelist, selected).content.decode()
        assert "order sessions that exist at Covage" in page
        response = client.post(changelist, {**selected, "post": "yes"})
        assert response.status_code == 403
    assert OrderSession.objects.filter(pk=confirmed_session.pk).exists()
    assert ProductOrder.objects.filter(uid=confirmed_session.covage_id).exists()


def test_a_draft_session_is_deleted_by_a_superuser_only(client):
    draft = services.create_session(user=sales_user(), external_id="BROUILLON")
    url = reverse("admin:orders_ordersession_delete", args=[draft.pk])
    client.force_login(back_office_user())
    # Its events would go with it: audit rows are not deleted by staff.
    assert "history event" in client.get(url).content.decode()
    assert client.post(url, {"post": "yes"}).status_code == 403
    client.force_login(superuser())
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not OrderSession.objects.filter(pk=draft.pk).exists()


# --- Audit rows ---------------------------------------------------------------------------------


def test_events_are_read_only_for_staff_and_deletable_by_a_superuser(client, confirmed_session):
    event = OrderEvent.objects.filter(session=confirmed_session).first()
    delete_url = reverse("admin:orders_orderevent_delete", args=[event.pk])
    client.force_login(back_office_user())
    change = client.get(reverse("admin:orders_orderevent_change", args=[event.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert (
        client.post(reverse("admin:orders_orderevent_change", args=[event.pk]), {}).status_code
        == 403
    )
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = client.get(reverse("admin:orders_orderevent_changelist")).content.decode()
    assert "delete_selected" not in changelist
    assert OrderEvent.objects.filter(pk=event.pk).exists()

    client.force_login(superuser())
    assert client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not OrderEvent.objects.filter(pk=event.pk).exists()


def test_state_changes_are_read_only_for_staff(client, confirmed_session):
    services.request_confirmation(user=confirmed_session.owner, session=confirmed_session)
    line = confirmed_session.lines.get()
    assert line.state_changes.exists()
    client.force_login(back_office_user())
    page = client.get(line_url(line)).content.decode()
    data = form_data(page)
    assert {n for n in data if n.startswith("state_changes-0-")} <= {
        "state_changes-0-id",
        "state_changes-0-line",
    }
    assert "state_changes-0-DELETE" not in page


def test_history_cannot_be_reverted_by_staff(client, confirmed_session):
    line = confirmed_session.lines.get()
    oldest = line.history.earliest("history_date")
    url = reverse("admin:orders_orderline_simple_history", args=[line.pk, oldest.history_id])
    client.force_login(back_office_user())
    page = client.get(url)
    assert page.status_code == 200 and "Revert" not in page.content.decode()
    data = form_data(page.content.decode(), "historicalorderline_form")
    assert data["note"] == [""]
    assert client.post(url, data).status_code == 403
    assert OrderLine.objects.get(pk=line.pk).version == line.version


def test_a_superuser_reverts_through_the_service(client, confirmed_session):
    admin_user = superuser(username="root")
    line = confirmed_session.lines.get()
    services.save_line_step(
        user=confirmed_session.owner,
        line=line,
        step="review",
        data={"note": "Version à annuler", "technical_note": ""},
        version=line.version,
    )
    before = line.history.filter(note="").latest("history_date")
    url = reverse("admin:orders_orderline_simple_history", args=[line.pk, before.history_id])
    client.force_login(admin_user)
    page = client.get(url).content.decode()
    assert "Revert" in page
    data = form_data(page, "historicalorderline_form")
    assert data["note"] == [""]

    response = client.post(url, data)

    assert response.status_code == 302, errors_of(response)
    current = OrderLine.objects.get(pk=line.pk)
    assert current.note == ""
    event = OrderEvent.objects.filter(line=current, action="line_saved").latest("pk")
    assert event.user == admin_user
    assert ProductOrderItem.objects.get(uid=current.covage_id).data["note"] == ""


# --- Actions and access -------------------------------------------------------------------------


def test_resync_action_reads_states_back_from_covage(client, confirmed_session):
    services.request_confirmation(user=confirmed_session.owner, session=confirmed_session)
    OrderSession.objects.filter(pk=confirmed_session.pk).update(remote_state="in_progress")
    OrderLine.objects.filter(session=confirmed_session).update(remote_state="in_progress")
    client.force_login(back_office_user())
    response = client.post(
        reverse("admin:orders_ordersession_changelist"),
        {"action": "resync_from_covage", "_selected_action": [confirmed_session.pk]},
        follow=True,
    )
    assert "1 session queued for a resync." in response.content.decode()
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


def test_sessions_needing_attention_are_listed_and_resolved_from_the_admin(
    client, confirmed_session
):
    from django.utils import timezone

    from orders.services.attention import mark_needs_attention

    session = confirmed_session
    line = session.lines.get()
    # A change that never reached Covage, and the portal gave up on it.
    OrderLine.objects.filter(pk=line.pk).update(version=line.version + 1)
    mark_needs_attention(session_id=session.pk, reason="Covage did not answer.")
    client.force_login(back_office_user())
    listing = client.get(reverse("admin:orders_ordersession_changelist") + "?attention=yes")
    assert listing.status_code == 200
    assert session.external_id in listing.content.decode()

    response = client.post(
        reverse("admin:orders_ordersession_changelist"),
        {"action": "resolve_attention", "_selected_action": [session.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 session queued again" in response.content.decode()
    session.refresh_from_db()
    assert session.attention_since is None and session.attention_reason == ""
    line.refresh_from_db()
    assert line.synced_version == line.version  # the queued sync went through
    event = session.events.get(action="attention_resolved")
    assert event.user is not None and event.message == "Covage did not answer."
    assert timezone.now() >= event.created_at
