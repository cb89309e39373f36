"""The reconciliation page: the back office's only; both sides of each difference; push again,
link and dismiss as POSTs; every mistake a message, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderLine, OrderSession, SyncStatus
from reconciliation.models import Difference

pytestmark = pytest.mark.django_db

Kind = Difference.Kind
Status = Difference.Status
LIST = "/reconciliation/"


@pytest.fixture
def portal(sales: Any) -> tuple[OrderSession, OrderLine]:
    """A session and a line that Covage has (ids only: no call is made in these tests)."""
    session = OrderSession.objects.create(
        owner=sales, external_id="CP-VIEW-1", covage_id="cov-session-1", remote_state="created"
    )
    line = OrderLine.objects.create(
        session=session,
        position=1,
        covage_id="cov-line-1",
        external_id="CP-VIEW-1-L1",
        note="Sonner deux fois",
        offer_family="BPE",
        version=2,
        synced_version=2,
        sync_status=SyncStatus.SYNCED,
        last_synced_at=timezone.now(),
    )
    return session, line


def value_difference(line: OrderLine, field: str = "note", **values: Any) -> Difference:
    defaults = {
        "kind": Kind.VALUE,
        "key": f"value:line:{line.covage_id}:{field}",
        "session": line.session,
        "line": line,
        "covage_session_id": line.session.covage_id,
        "covage_line_id": line.covage_id,
        "external_id": line.external_id,
        "field": field,
        "portal_value": "Sonner deux fois",
        "covage_value": "Écrit chez Covage",
    }
    return Difference.objects.create(**{**defaults, **values})


def unknown_session(external_id: str = "PAPER-1", covage_id: str = "cov-foreign") -> Difference:
    return Difference.objects.create(
        kind=Kind.UNKNOWN_AT_PORTAL,
        key=f"unknown_at_portal:session:{covage_id}",
        covage_session_id=covage_id,
        external_id=external_id,
        covage_value="completed · PRJ-2024-001",
    )


def urls(pk: int) -> list[tuple[str, str]]:
    return [
        ("get", LIST),
        ("post", LIST),
        ("post", reverse("reconciliation:push_again", args=[pk])),
        ("post", reverse("reconciliation:link", args=[pk])),
        ("post", reverse("reconciliation:dismiss", args=[pk])),
        ("get", reverse("reconciliation:dismiss", args=[pk])),
    ]


# --- Who may see it -----------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(client, portal):
    difference = value_difference(portal[1])
    for method, url in urls(difference.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_sales_users_are_refused_everywhere_and_nothing_changes(client, portal, sales):
    difference = value_difference(portal[1])
    client.force_login(sales)
    for method, url in urls(difference.pk):
        response = getattr(client, method)(url, {f"dismiss-{difference.pk}-reason": "Non"})
        assert response.status_code == 403, (method, url)
    difference.refresh_from_db()
    assert difference.status == Status.OPEN


def test_the_menu_offers_the_page_to_the_back_office_only(client, sales, back_office):
    client.force_login(sales)
    assert LIST not in client.get(reverse("orders:list")).content.decode()
    client.force_login(back_office)
    assert f'href="{LIST}"' in client.get(reverse("orders:list")).content.decode()


def test_post_only_urls_answer_405_to_get_and_unknown_ids_404(client, back_office):
    client.force_login(back_office)
    assert client.get(reverse("reconciliation:push_again", args=[1])).status_code == 404
    difference = unknown_session()
    assert client.get(reverse("reconciliation:push_again", args=[difference.pk])).status_code == 405
    assert client.post(LIST).status_code == 405


# --- The list -----------------------------------------------------------------------------------


def test_the_page_shows_each_side_and_the_ways_to_resolve(client, portal, back_office):
    difference = value_difference(portal[1])
    client.force_login(back_office)

    page = client.get(LIST).content.decode()

    assert f'id="difference-{difference.pk}"' in page
    assert "Sonner deux fois" in page and "Écrit chez Covage" in page
    assert "Note" in page and "Different value" in page
    assert reverse("reconciliation:push_again", args=[difference.pk]) in page
    assert reverse("reconciliation:dismiss", args=[difference.pk]) in page
    assert reverse("orders:line", args=[portal[0].pk, portal[1].pk]) in page
    assert "csrfmiddlewaretoken" in page
    assert "<script>" not in page and 'style="' not in page


def test_an_empty_list_says_there_is_nothing_to_resolve(client, back_office):
    client.force_login(back_office)
    response = client.get(LIST)
    assert response.status_code == 200
    assert "Nothing to resolve." in response.content.decode()


def test_filters_by_status_and_kind(client, portal, back_office):
    value = value_difference(portal[1])
    dismissed = value_difference(
        portal[1], field="technical_note", status=Status.DISMISSED, resolution="Vu avec Covage"
    )
    unknown = unknown_session()
    client.force_login(back_office)

    def shown(query: dict[str, str]) -> set[int]:
        page = client.get(LIST, query).content.decode()
        return {d.pk for d in (value, dismissed, unknown) if f'id="difference-{d.pk}"' in page}

    assert shown({}) == {value.pk, unknown.pk}  # open ones by default
    assert shown({"status": "dismissed"}) == {dismissed.pk}
    assert shown({"status": "all"}) == {value.pk, dismissed.pk, unknown.pk}
    assert shown({"kind": "unknown_at_portal"}) == {unknown.pk}
    assert shown({"status": "nonsense", "kind": "nonsense"}) == {value.pk, unknown.pk}
    assert shown({"difference": str(dismissed.pk)}) == {dismissed.pk}
    assert "Vu avec Covage" in client.get(LIST, {"status": "dismissed"}).content.decode()
    assert "No difference matches" in client.get(LIST, {"status": "gone"}).content.decode()


def test_the_list_is_paginated(client, portal, back_office):
    for number in range(25):
        value_difference(portal[1], field=f"field_{number}")
    client.force_login(back_office)
    first = client.get(LIST).content.decode()
    assert "25 differences" in first and "page 1 of 2" in first
    assert client.get(LIST, {"page": "2"}).status_code == 200
    assert client.get(LIST, {"page": "abc"}).status_code == 200


# --- Dismiss ------------------------------------------------------------------------------------


def test_dismiss_without_a_reason_says_so_on_the_field(client, portal, back_office):
    difference = value_difference(portal[1])
    client.force_login(back_office)

    response = client.post(
        reverse("reconciliation:dismiss", args=[difference.pk]),
        {f"dismiss-{difference.pk}-reason": "  ", "next": f"{LIST}?kind=value"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the reason for dismissing this difference." in page
    assert "is-invalid" in page
    assert f'id="difference-{difference.pk}"' in page
    difference.refresh_from_db()
    assert difference.status == Status.OPEN


def test_dismiss_with_a_reason(client, portal, back_office):
    difference = value_difference(portal[1])
    client.force_login(back_office)

    response = client.post(
        reverse("reconciliation:dismiss", args=[difference.pk]),
        {f"dismiss-{difference.pk}-reason": "Covage a raison", "next": f"{LIST}?kind=value"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"{LIST}?kind=value"
    assert "Difference dismissed" in response.content.decode()
    difference.refresh_from_db()
    assert difference.status == Status.DISMISSED
    assert difference.resolution == "Covage a raison" and difference.resolved_by == back_office


def test_a_foreign_next_address_is_not_followed(client, portal, back_office):
    difference = value_difference(portal[1])
    client.force_login(back_office)
    response = client.post(
        reverse("reconciliation:dismiss", args=[difference.pk]),
        {f"dismiss-{difference.pk}-reason": "Ok", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == LIST


def test_resolving_twice_is_a_message_not_an_error(client, portal, back_office):
    difference = value_difference(portal[1], status=Status.DISMISSED)
    client.force_login(back_office)
    for name in ("dismiss", "push_again"):
        response = client.post(
            reverse(f"reconciliation:{name}", args=[difference.pk]),
            {f"dismiss-{difference.pk}-reason": "Encore"},
            follow=True,
        )
        assert response.status_code == 200
        assert "no longer open" in response.content.decode()


# --- Push again ---------------------------------------------------------------------------------


def test_push_again_queues_the_line_and_resolves_the_difference(client, portal, back_office):
    _, line = portal
    difference = value_difference(line)
    client.force_login(back_office)

    response = client.post(reverse("reconciliation:push_again", args=[difference.pk]), follow=True)

    assert response.status_code == 200
    assert "The sync sends it in the background" in response.content.decode()
    line.refresh_from_db()
    assert line.needs_sync and line.sync_status == SyncStatus.SYNCING
    assert line.version == 2  # nobody editing it meets a false conflict
    difference.refresh_from_db()
    assert difference.status == Status.RESOLVED and difference.resolved_by == back_office


def test_push_again_on_an_offer_explains_instead(client, portal, back_office):
    _, line = portal
    difference = value_difference(line, field="offer_family")
    client.force_login(back_office)

    page = client.get(LIST).content.decode()
    assert reverse("reconciliation:push_again", args=[difference.pk]) not in page
    assert "replace the line" in page

    response = client.post(reverse("reconciliation:push_again", args=[difference.pk]), follow=True)
    assert "Covage cannot change the offer" in response.content.decode()
    difference.refresh_from_db()
    assert difference.status == Status.OPEN


# --- Link ---------------------------------------------------------------------------------------


def test_link_offers_the_sessions_with_the_same_external_id(client, sales, back_office):
    draft = OrderSession.objects.create(owner=sales, external_id="PAPER-1")
    difference = unknown_session()
    lonely = unknown_session(external_id="NOBODY", covage_id="cov-nobody")
    client.force_login(back_office)

    page = client.get(LIST).content.decode()
    assert f'<option value="{draft.pk}">PAPER-1' in page
    assert "nothing to link it to" in page  # for `lonely`

    response = client.post(
        reverse("reconciliation:link", args=[difference.pk]),
        {f"link-{difference.pk}-target": str(draft.pk)},
        follow=True,
    )

    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.covage_id == "cov-foreign"
    difference.refresh_from_db()
    assert difference.status == Status.RESOLVED and difference.session == draft
    lonely.refresh_from_db()
    assert lonely.status == Status.OPEN


def test_link_to_something_that_is_not_a_candidate_is_a_message(client, portal, sales, back_office):
    difference = unknown_session(external_id="CP-VIEW-1")  # the portal's session is linked
    client.force_login(back_office)
    for target in (str(portal[0].pk), "", "abc", "999999"):
        response = client.post(
            reverse("reconciliation:link", args=[difference.pk]),
            {f"link-{difference.pk}-target": target},
            follow=True,
        )
        assert response.status_code == 200
        assert "alert-danger" in response.content.decode()
    difference.refresh_from_db()
    assert difference.status == Status.OPEN
    portal[0].refresh_from_db()
    assert portal[0].covage_id == "cov-session-1"


def test_a_confirmed_session_offers_dismiss_only(client, portal, back_office):
    session, line = portal
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.CONFIRMED, remote_state="completed"
    )
    difference = value_difference(line)
    client.force_login(back_office)

    page = client.get(LIST).content.decode()

    assert reverse("reconciliation:push_again", args=[difference.pk]) not in page
    assert "Covage no longer takes changes to it" in page
    assert reverse("reconciliation:dismiss", args=[difference.pk]) in page


def test_the_message_is_in_the_readers_language_and_the_record_neutral(
    client, portal, back_office, french
):
    french["Sent again to Covage with the portal's values."] = (
        "Renvoyée à Covage avec les valeurs du portail."
    )
    french["%(subject)s: %(resolution)s The sync sends it in the background."] = (
        "%(subject)s\u00a0: %(resolution)s La synchronisation l\u2019envoie en arrière-plan."
    )
    _, line = portal
    difference = value_difference(line)
    client.force_login(back_office)

    response = client.post(
        reverse("reconciliation:push_again", args=[difference.pk]),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert "Renvoyée à Covage avec les valeurs du portail. La synchronisation" in (
        response.content.decode()
    )
    difference.refresh_from_db()
    assert difference.resolution == "Sent again to Covage with the portal's values."
    assert difference.resolution_code == "pushed_again"
