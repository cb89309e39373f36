"""The offer of a line Covage has is fixed (Covage's PATCH takes neither offer_family nor
offer_technology): a change is refused on the field, never silently lost, and another offer
is ordered by replacing the line, an explicit action the user agrees to.

The first tests talk to the sandbox over HTTP (the sync runs after each commit); the last
ones look at the service alone, before the sync has run.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from factories import back_office_user, sales_user
from order_data import fill_line

from covage.sandbox.models import ProductOrderItem
from orders import services
from orders.models import OrderEvent, OrderLine, SyncStatus
from orders.services.errors import LockedError, OfferFixedError, OrderError
from orders.services.replace import replace_line


def body(response) -> str:
    return response.content.decode()


def step_url(line, step: str = "offer") -> str:
    return reverse("orders:line_step", args=[line.session_id, line.pk, step])


def replace_url(line) -> str:
    return reverse("orders:replace_line", args=[line.session_id, line.pk])


def offer_post(line, **changes) -> dict:
    """The offer step as a browser submits it for a line Covage has: the offer fields are
    disabled, so they are not sent."""
    return {
        "version": line.version,
        "product_offering_id": line.product_offering_id,
        "product_offering_qualification_item_id": line.product_offering_qualification_item_id,
        "quote_item_id": line.quote_item_id,
        "other_option_ids": "",
        "project_id": line.project_id,
        "external_id": line.external_id,
        "nav": "save",
        **changes,
    }


@pytest.fixture
def synced(sandbox_url):
    """A sales user's complete line, created at Covage (the sandbox)."""
    user = sales_user()
    session = services.create_session(user=user, external_id="OFFRE-ÉTÉ")
    line = fill_line(user, session, external_id="MA-RÉF-42")
    assert line.covage_id and line.sync_status == SyncStatus.SYNCED
    return user, line


@pytest.mark.django_db(transaction=True)
class TestAgainstTheSandbox:
    def test_the_offer_step_shows_the_offer_fixed_and_the_replace_action(self, client, synced):
        user, line = synced
        client.force_login(user)
        page = body(client.get(step_url(line)))
        family = re.search(r"<select[^>]*name=\"offer_family\"[^>]*>", page).group(0)
        technology = re.search(r"<input[^>]*name=\"offer_technology\"[^>]*>", page).group(0)
        assert "disabled" in family and "disabled" in technology
        assert page.count("Covage cannot change the offer of a line it already has.") == 2
        assert f'href="{replace_url(line)}">Replace the line with another offer</a>' in page

    def test_another_offer_is_refused_on_the_field_and_nothing_typed_is_lost(self, client, synced):
        user, line = synced
        client.force_login(user)
        # A page opened before Covage had the line still sends the offer fields.
        data = offer_post(line, offer_family="DIA", product_offering_id="9999")

        response = client.post(step_url(line), data)

        assert response.status_code == 200
        page = body(response)
        field = page.split('id="id_offer_family"')[0].rsplit("<select", 1)[1]
        assert "is-invalid" in field
        assert "Covage cannot change the offer (family and technology) of a line it" in page
        assert "Covage already has this line and cannot change its offer." in page
        assert re.search(r'<option value="DIA"[^>]*selected', page)  # what was typed
        assert 'value="9999"' in page
        assert f'href="{replace_url(line)}?offer_family=DIA&amp;offer_technology=FIBDE"' in page
        saved = OrderLine.objects.get(pk=line.pk)
        assert (saved.offer_family, saved.product_offering_id) == ("BPE", "2173")
        assert saved.version == line.version
        # Saving again as the browser does (the offer fields disabled, so not sent) keeps
        # the other changes, with the line's offer.
        response = client.post(step_url(line), offer_post(line, product_offering_id="9999"))
        assert response.status_code == 302
        saved.refresh_from_db()
        assert (saved.offer_family, saved.product_offering_id) == ("BPE", "9999")
        remote = ProductOrderItem.objects.get(uid=line.covage_id)
        assert remote.data["product_offering_id"] == "9999"
        assert remote.data["offer_family"] == "BPE"

    def test_replacing_deletes_the_line_at_covage_and_creates_the_new_offer(self, client, synced):
        user, line = synced
        old_remote = line.covage_id
        client.force_login(user)
        page = body(client.get(replace_url(line), {"offer_family": "DIA"}))
        assert "deletes this line at Covage" in page
        assert 'name="csrfmiddlewaretoken"' in page and 'method="post"' in page
        assert re.search(r'<option value="DIA"[^>]*selected', page)
        assert OrderLine.objects.get(pk=line.pk).deleted_at is None  # asking changes nothing

        response = client.post(
            replace_url(line), {"offer_family": "DIA", "offer_technology": "FIBDE"}
        )

        new = OrderLine.objects.exclude(pk=line.pk).get(session=line.session)
        assert response["Location"] == step_url(new)
        # The sync ran after the commit: the old line is gone at Covage and here, the new
        # one was created with the new offer.
        assert not ProductOrderItem.objects.filter(uid=old_remote).exists()
        assert not OrderLine.objects.filter(pk=line.pk).exists()
        assert new.covage_id and new.covage_id != old_remote
        remote = ProductOrderItem.objects.get(uid=new.covage_id)
        assert (remote.data["offer_family"], remote.data["offer_technology"]) == ("DIA", "FIBDE")
        # Everything typed came along, the salesperson's own reference included.
        assert remote.data["external_id"] == "MA-RÉF-42"
        assert remote.data["end_customer_name"] == "Pâtisserie Gérard"
        assert remote.data["related_contact_information"][0]["city"] == "Mont-Saint-Aignan"
        assert new.position == line.position
        page = body(client.get(response["Location"]))
        assert "now orders DIA · FIBDE" in page

    def test_replacing_needs_a_different_offer(self, client, synced):
        user, line = synced
        client.force_login(user)
        response = client.post(
            replace_url(line), {"offer_family": "BPE", "offer_technology": "FIBDE"}
        )
        assert response.status_code == 200
        assert "The line already has this offer" in body(response)
        assert OrderLine.objects.filter(session=line.session, deleted_at__isnull=True).count() == 1


# --- The service alone (no commit: the sync has not run) -----------------------------------------


@pytest.fixture
def at_covage(session_factory, complete_line):
    """A line as Covage has it, the sync not run since."""
    user = sales_user()
    session = session_factory(owner=user, covage_id="remote-session", remote_state="created")
    line = complete_line(
        session=session, position=3, covage_id="remote-line-1", sync_status=SyncStatus.SYNCED
    )
    line.external_id = services.drafts.default_line_external_id(session, line)
    line.save()
    return user, line


@pytest.mark.django_db
class TestTheService:
    def test_the_save_service_refuses_an_offer_change_on_a_line_at_covage(self, at_covage):
        user, line = at_covage
        with pytest.raises(OfferFixedError) as refused:
            services.save_line_step(
                user=user,
                line=line,
                step="offer",
                data={"offer_technology": "FIBAC", "product_offering_id": "1"},
                version=line.version,
            )
        assert refused.value.fields == ("offer_technology",)
        assert "replace the line" in str(refused.value)
        saved = OrderLine.objects.get(pk=line.pk)
        assert (saved.offer_technology, saved.product_offering_id, saved.version) == (
            "FIBDE",
            "2173",
            line.version,
        )

    def test_a_draft_line_changes_its_offer_freely(self, session_factory, complete_line):
        user = sales_user()
        line = complete_line(session=session_factory(owner=user))
        saved = services.save_line_step(
            user=user, line=line, step="offer", data={"offer_family": "DIA"}, version=line.version
        )
        assert saved.offer_family == "DIA"

    def test_replace_leaves_the_old_line_pending_deletion_and_a_new_one(self, at_covage):
        user, line = at_covage
        new = replace_line(user=user, line=line, offer_family="bpea", offer_technology=" FIBAC ")

        old = OrderLine.objects.get(pk=line.pk)
        assert old.deleted_at is not None and old.sync_status == SyncStatus.SYNCING
        assert old.covage_id == "remote-line-1"  # kept until Covage confirms the DELETE
        assert (new.offer_family, new.offer_technology) == ("BPEA", "FIBAC")
        assert new.covage_id == "" and new.sync_status == SyncStatus.SYNCING
        assert new.needs_sync and new.position == 3
        assert new.end_customer_name == line.end_customer_name
        assert new.contacts.get().city == "Mont-Saint-Aignan"
        # A portal-numbered id names the old row: the copy gets its own.
        assert new.external_id == f"{line.session.external_id}-L{new.pk}"
        actions = OrderEvent.objects.filter(session=line.session, user=user)
        assert {"line_deleted", "line_replaced"} <= set(actions.values_list("action", flat=True))
        replaced = actions.get(action="line_replaced")
        assert (
            replaced.line == new
            and "FIBDE" in replaced.message_text
            and "BPEA" in replaced.message_text
        )

    def test_replace_is_refused_once_the_session_is_locked(self, at_covage):
        user, line = at_covage
        line.session.sync_status = SyncStatus.CONFIRMING
        line.session.save()
        with pytest.raises(LockedError):
            replace_line(user=user, line=line, offer_family="DIA", offer_technology="")
        assert OrderLine.objects.filter(session=line.session).count() == 1
        assert OrderLine.objects.get(pk=line.pk).deleted_at is None

    def test_a_line_is_replaced_once(self, at_covage):
        user, line = at_covage
        replace_line(user=user, line=line, offer_family="DIA", offer_technology="")
        with pytest.raises(OrderError):
            replace_line(user=user, line=line, offer_family="BPEA", offer_technology="")


# --- Pages: who may, and when ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("cached_referentials")
class TestReplacePage:
    def test_another_sales_users_line_is_404_and_back_office_may(self, client, at_covage):
        _, line = at_covage
        client.force_login(sales_user())
        assert client.get(replace_url(line)).status_code == 404
        response = client.post(replace_url(line), {"offer_family": "DIA"})
        assert response.status_code == 404
        assert OrderLine.objects.get(pk=line.pk).deleted_at is None
        client.force_login(back_office_user())
        assert client.get(replace_url(line)).status_code == 200

    def test_a_locked_session_is_refused(self, client, at_covage):
        user, line = at_covage
        line.session.sync_status = SyncStatus.CONFIRMED
        line.session.save()
        client.force_login(user)
        page = body(client.get(replace_url(line)))
        assert (
            "can no longer be changed or replaced" in page
            and "<form" not in page.split("card-body")[1]
        )
        response = client.post(replace_url(line), {"offer_family": "DIA"}, follow=True)
        assert "can no longer be changed" in body(response)
        assert OrderLine.objects.filter(session=line.session).count() == 1
        assert OrderLine.objects.get(pk=line.pk).deleted_at is None

    def test_a_replaced_line_is_gone_from_every_url(self, client, at_covage):
        user, line = at_covage
        replace_line(user=user, line=line, offer_family="DIA", offer_technology="")
        client.force_login(user)
        assert client.get(replace_url(line)).status_code == 404
        assert client.get(step_url(line)).status_code == 404
        assert client.put(replace_url(line)).status_code == 404

    def test_only_get_and_post(self, client, at_covage):
        user, line = at_covage
        client.force_login(user)
        assert client.put(replace_url(line)).status_code == 405
