"""Resolving differences: push again (a value, something missing at Covage), link (something
unknown to the portal), dismiss with a reason. Each reaches Covage (the sandbox) through the
sync, and the next export shows the difference resolved."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from order_data import OFFER, fill_line

from covage.sandbox.models import ProductOrder, ProductOrderItem, SandboxAccount
from orders import services
from orders.models import OrderLine, OrderSession, SyncStatus
from reconciliation import services as reconciliation
from reconciliation.models import Difference
from reconciliation.selectors import link_candidates

pytestmark = pytest.mark.django_db(transaction=True)

Kind = Difference.Kind
Status = Difference.Status


def covage_item(line: OrderLine) -> ProductOrderItem:
    return ProductOrderItem.objects.get(uid=line.covage_id)


def change_at_covage(line: OrderLine, **data: Any) -> None:
    item = covage_item(line)
    item.data = {**item.data, **data}
    item.save(update_fields=["data"])


def only(kind: str, **filters: Any) -> Difference:
    [difference] = Difference.objects.filter(kind=kind, **filters)
    return difference


@pytest.fixture
def synced(sales: Any, covage: Any) -> tuple[OrderSession, OrderLine]:
    session = services.create_session(user=sales, project_id="PRJ-2024-001")
    line = fill_line(sales, session)
    line = services.save_line_step(
        user=sales,
        line=line,
        step="review",
        data={"note": "Sonner deux fois"},
        version=line.version,
    )
    line.refresh_from_db()
    assert line.note == "Sonner deux fois" and not line.needs_sync
    session.refresh_from_db()
    return session, line


def assert_resolved(difference: Difference, user: Any) -> None:
    difference.refresh_from_db()
    assert difference.status == Status.RESOLVED
    assert difference.resolved_by == user and difference.resolved_at is not None
    assert difference.resolution


# --- Push again -------------------------------------------------------------------------------


def test_push_again_sends_the_portals_values_to_covage(synced, run_export, back_office):
    session, line = synced
    change_at_covage(line, note="Écrasé chez Covage", customer_order_name="Autre commande")
    run_export()
    note = only(Kind.VALUE, field="note")
    other = only(Kind.VALUE, field="customer_order_name")

    reconciliation.resolve_push_again(user=back_office, difference=note)

    data = covage_item(line).data
    assert data["note"] == "Sonner deux fois"
    assert data["customer_order_name"] == "Commande d'été"
    line.refresh_from_db()
    assert line.sync_status == SyncStatus.SYNCED and not line.needs_sync
    assert_resolved(note, back_office)
    assert_resolved(other, back_office)  # the whole line was sent: resolved with it
    assert session.events.filter(action="line_pushed_again", user=back_office).exists()

    run_export()
    assert not Difference.objects.filter(status=Status.OPEN).exists()


def test_push_again_cannot_change_an_offer(synced, run_export, back_office):
    _, line = synced
    change_at_covage(line, offer_family="BPEA")
    run_export()
    offer = only(Kind.VALUE, field="offer_family")
    assert (offer.portal_value, offer.covage_value) == ("BPE", "BPEA")
    assert not reconciliation.can_push_again(offer)

    with pytest.raises(reconciliation.ResolutionError, match="offer"):
        reconciliation.resolve_push_again(user=back_office, difference=offer)

    offer.refresh_from_db()
    assert offer.status == Status.OPEN


def test_push_again_is_refused_once_the_session_is_confirmed(synced, run_export, back_office):
    session, line = synced
    change_at_covage(line, note="Autre")
    run_export()
    note = only(Kind.VALUE, field="note")
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.CONFIRMED, confirm_requested_at=timezone.now()
    )

    with pytest.raises(reconciliation.ResolutionError, match="confirmed"):
        reconciliation.resolve_push_again(user=back_office, difference=note)

    note.refresh_from_db()
    assert note.status == Status.OPEN
    assert covage_item(line).data["note"] == "Autre"


def test_a_line_missing_at_covage_is_created_again(synced, run_export, back_office):
    session, line = synced
    lost = line.covage_id
    covage_item(line).delete()
    run_export()
    missing = only(Kind.MISSING_AT_COVAGE)

    reconciliation.resolve_push_again(user=back_office, difference=missing)

    line.refresh_from_db()
    assert line.covage_id and line.covage_id != lost
    item = covage_item(line)
    assert item.product_order.uid.hex == session.covage_id.replace("-", "")
    assert item.data["external_id"] == line.external_id
    assert item.data["end_customer_name"] == "Pâtisserie Gérard"
    assert_resolved(missing, back_office)
    assert session.events.filter(action="line_created_again").exists()

    run_export()
    assert not Difference.objects.filter(status=Status.OPEN).exists()


def test_a_session_missing_at_covage_is_created_again_with_its_lines(
    synced, run_export, back_office, sales
):
    session, line = synced
    second = fill_line(sales, session)
    lost = session.covage_id
    ProductOrder.objects.filter(uid=lost).delete()
    run_export()
    missing = only(Kind.MISSING_AT_COVAGE)

    reconciliation.resolve_push_again(user=back_office, difference=missing)

    session.refresh_from_db()
    assert session.covage_id and session.covage_id != lost
    remote = ProductOrder.objects.get(uid=session.covage_id)
    assert remote.external_id == session.external_id
    assert remote.items.count() == 2
    for portal_line in (line, second):
        portal_line.refresh_from_db()
        assert covage_item(portal_line).product_order == remote
    assert_resolved(missing, back_office)

    run_export()
    assert not Difference.objects.filter(status=Status.OPEN).exists()


# --- Link -------------------------------------------------------------------------------------


def test_a_covage_session_unknown_to_the_portal_is_linked_to_its_portal_session(
    synced, run_export, back_office, sales
):
    account = SandboxAccount.objects.get(username="demo")
    remote = ProductOrder.objects.create(account=account, external_id="PAPER-ORDER-7")
    draft = services.create_session(user=sales, external_id="PAPER-ORDER-7")
    run_export()
    unknown = only(Kind.UNKNOWN_AT_PORTAL)
    assert list(link_candidates(unknown)) == [draft]

    reconciliation.resolve_link(user=back_office, difference=unknown, target=draft)

    draft.refresh_from_db()
    assert draft.covage_id == str(remote.uid)
    assert_resolved(unknown, back_office)
    unknown.refresh_from_db()
    assert unknown.session == draft
    assert draft.events.filter(action="session_linked", user=back_office).exists()

    run_export()
    assert not Difference.objects.filter(status=Status.OPEN).exists()
    assert ProductOrder.objects.filter(external_id="PAPER-ORDER-7").count() == 1


def test_a_linked_session_finds_its_lines_at_covage_instead_of_sending_them_twice(
    synced, run_export, back_office, sales
):
    draft = services.create_session(user=sales, external_id="PAPER-ORDER-8")
    line = services.add_line(user=sales, session=draft)  # saved nowhere but here
    OrderLine.objects.filter(pk=line.pk).update(**{**OFFER, "external_id": line.external_id})
    account = SandboxAccount.objects.get(username="demo")
    remote = ProductOrder.objects.create(account=account, external_id="PAPER-ORDER-8")
    item = ProductOrderItem.objects.create(
        product_order=remote,
        data={**OFFER, "external_id": line.external_id, "option_ids": []},
    )
    run_export()

    reconciliation.resolve_link(
        user=back_office, difference=only(Kind.UNKNOWN_AT_PORTAL), target=draft
    )

    line.refresh_from_db()
    assert line.covage_id == str(item.uid)  # looked up at Covage, not created again
    assert remote.items.count() == 1


def test_a_covage_line_unknown_to_the_portal_is_linked_to_its_portal_line(
    synced, run_export, back_office
):
    session, line = synced
    # The portal lost the line's Covage id (say, restored from a backup taken before it was
    # sent): Covage has it.
    covage_id = line.covage_id
    OrderLine.objects.filter(pk=line.pk).update(
        covage_id="", synced_version=0, create_attempted_at=None
    )
    run_export()
    unknown = only(Kind.UNKNOWN_AT_PORTAL)
    assert unknown.covage_line_id == covage_id and unknown.session == session
    assert [candidate.pk for candidate in link_candidates(unknown)] == [line.pk]

    reconciliation.resolve_link(user=back_office, difference=unknown, target=line)

    line.refresh_from_db()
    assert line.covage_id == covage_id
    assert line.sync_status == SyncStatus.SYNCED and not line.needs_sync  # values sent again
    assert ProductOrderItem.objects.filter(product_order__uid=session.covage_id).count() == 1
    assert_resolved(unknown, back_office)

    run_export()
    assert not Difference.objects.filter(status=Status.OPEN).exists()


def test_link_refuses_a_portal_object_already_linked(synced, run_export, back_office):
    session, _ = synced
    account = SandboxAccount.objects.get(username="demo")
    ProductOrder.objects.create(account=account, external_id="SOMEONE-ELSES")
    run_export()
    unknown = only(Kind.UNKNOWN_AT_PORTAL)

    with pytest.raises(reconciliation.ResolutionError, match="already linked"):
        reconciliation.resolve_link(user=back_office, difference=unknown, target=session)

    unknown.refresh_from_db()
    assert unknown.status == Status.OPEN
    session.refresh_from_db()
    assert session.covage_id != unknown.covage_session_id


# --- Dismiss ----------------------------------------------------------------------------------


def test_dismiss_needs_a_reason_and_keeps_it(synced, run_export, back_office):
    _, line = synced
    change_at_covage(line, note="Corrigé par Covage")
    run_export()
    note = only(Kind.VALUE)

    for blank in ("", "   "):
        with pytest.raises(reconciliation.ResolutionError, match="reason"):
            reconciliation.dismiss(user=back_office, difference=note, reason=blank)
    note.refresh_from_db()
    assert note.status == Status.OPEN

    reconciliation.dismiss(user=back_office, difference=note, reason=" Covage a raison ")

    note.refresh_from_db()
    assert note.status == Status.DISMISSED
    assert note.resolution == "Covage a raison"
    assert note.resolved_by == back_office and note.resolved_at


def test_a_difference_is_resolved_once(synced, run_export, back_office):
    _, line = synced
    change_at_covage(line, note="Autre")
    run_export()
    note = only(Kind.VALUE)
    reconciliation.dismiss(user=back_office, difference=note, reason="Vu")

    with pytest.raises(reconciliation.ResolutionError, match="no longer open"):
        reconciliation.resolve_push_again(user=back_office, difference=note)
    with pytest.raises(reconciliation.ResolutionError, match="no longer open"):
        reconciliation.dismiss(user=back_office, difference=note, reason="Encore")


def test_an_applied_state_is_a_record_not_something_to_resolve(synced, run_export, back_office):
    _, line = synced
    ProductOrderItem.objects.filter(uid=line.covage_id).update(state="acknowledged")
    run_export()
    state = only(Kind.STATE)

    with pytest.raises(reconciliation.ResolutionError):
        reconciliation.dismiss(user=back_office, difference=state, reason="No")
    with pytest.raises(reconciliation.ResolutionError):
        reconciliation.resolve_push_again(user=back_office, difference=state)
