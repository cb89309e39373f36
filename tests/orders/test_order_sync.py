"""The order services against the sandbox over real HTTP: drafts reach Covage with every
value typed, Covage's answers come back, and faults neither lose nor duplicate anything."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone
from factories import sales_user
from order_data import OFFER, TECHNICAL, fill_line

from covage import schemas
from covage.client import CovageClient
from covage.sandbox.models import ProductOrder, ProductOrderItem, SandboxCall
from notifications.models import Kind, Notification
from orders import services
from orders.models import LineContact, OrderLine, OrderSession, SyncStatus
from orders.services import sweeper
from orders.wire import store_histories

pytestmark = pytest.mark.django_db(transaction=True)


def remote_item(line: OrderLine) -> ProductOrderItem:
    return ProductOrderItem.objects.get(uid=line.covage_id)


@pytest.fixture
def user():
    return sales_user()


def test_a_filled_line_reaches_covage_with_every_value(sandbox_url, user):
    session = services.create_session(user=user, project_id="PRJ-001")
    line = fill_line(user, session)  # each step's sync runs right after its commit

    session.refresh_from_db()
    assert session.covage_id and session.remote_state == "created"
    assert session.sync_status == SyncStatus.SYNCED
    assert line.sync_status == SyncStatus.SYNCED and line.synced_version == line.version
    assert line.temporary_reference and line.remote_state == "created"
    # Left blank on the form, the line's external id stays the portal's own.
    assert line.external_id == f"{session.external_id}-L{line.pk}"
    assert [c.state for c in line.state_changes.all()] == ["created"]

    remote = ProductOrder.objects.get(uid=session.covage_id)
    assert remote.external_id == session.external_id and remote.project_id == "PRJ-001"
    data = remote_item(line).data
    assert data["end_customer_name"] == "Pâtisserie Gérard"
    assert data["customer_order_name"] == "Commande d'été"
    assert data["vlan_reference"] == 1257
    assert data["enni"] == "CN012345"
    assert data["siret_known"] is True
    assert data["project_id"] == "PRJ-001"  # inherited from the session
    contact = data["related_contact_information"][0]
    assert contact["street_name"] == "Rue Andreï Sakharov"
    assert contact["building_name"] == "Bâtiment É"
    assert contact["contact1_lastname"] == "Ðuriç"
    assert contact["contact1_phone_number"] == "0123456789"  # national form, as documented
    assert contact["siret"] == "73282932000074"
    assert contact["latitude"] == pytest.approx(49.4744077)
    # One session at Covage, whatever the number of saves.
    assert ProductOrder.objects.filter(external_id=session.external_id).count() == 1
    assert ProductOrderItem.objects.filter(product_order=remote).count() == 1


def test_changes_are_patched_and_a_cleared_value_is_cleared(sandbox_url, user):
    session = services.create_session(user=user)
    line = fill_line(user, session)
    patches_before = SandboxCall.objects.filter(method="PATCH").count()
    line = services.save_line_step(
        user=user,
        line=line,
        step="technical",
        data={**TECHNICAL, "vlan_reference": None, "enni": "CN099999"},
        version=line.version,
    )
    assert SandboxCall.objects.filter(method="PATCH").count() == patches_before + 1
    data = remote_item(OrderLine.objects.get(pk=line.pk)).data
    assert data["enni"] == "CN099999"
    assert data.get("vlan_reference") in (None, "")


def test_deleting_a_synced_line_deletes_it_at_covage(sandbox_url, user):
    session = services.create_session(user=user)
    keep = fill_line(user, session)
    gone = fill_line(user, session)
    gone_remote = gone.covage_id
    services.delete_line(user=user, line=gone)
    assert not OrderLine.objects.filter(pk=gone.pk).exists()
    assert not ProductOrderItem.objects.filter(uid=gone_remote).exists()
    assert ProductOrderItem.objects.filter(uid=keep.covage_id).exists()
    assert SandboxCall.objects.filter(method="DELETE", status=200).count() == 1


def test_deleting_a_line_never_sent_makes_no_call(sandbox_url, user, settings):
    session = services.create_session(user=user)
    line = services.add_line(user=user, session=session)
    services.delete_line(user=user, line=line)
    assert not OrderLine.objects.filter(pk=line.pk).exists()
    assert not SandboxCall.objects.filter(method="DELETE").exists()


def test_covage_field_errors_are_kept_on_the_line(sandbox_url, user):
    session = services.create_session(user=user)
    line = services.add_line(user=user, session=session)
    # Only the technical step: Covage requires the offer's two ids at creation.
    line = services.save_line_step(
        user=user, line=line, step="technical", data=TECHNICAL, version=line.version
    )
    line.refresh_from_db()
    assert line.sync_status == SyncStatus.SYNC_FAILED
    assert "product_offering_id" in line.remote_errors
    assert line.rejected_version == line.version
    # Not sent again until the user changes it.
    assert sweeper.sessions_needing_sync(grace=dt.timedelta(0)) == []
    line = services.save_line_step(
        user=user, line=line, step="offer", data=OFFER, version=line.version
    )
    line.refresh_from_db()
    assert line.sync_status == SyncStatus.SYNCED and line.remote_errors == {}


def test_a_stale_version_is_refused_and_nothing_is_overwritten(sandbox_url, user):
    session = services.create_session(user=user)
    line = fill_line(user, session)
    opened_with = line.version
    services.save_line_step(
        user=user, line=line, step="review", data={"note": "first tab"}, version=opened_with
    )
    with pytest.raises(services.StaleLineError) as exc:
        services.save_line_step(
            user=user, line=line, step="review", data={"note": "second tab"}, version=opened_with
        )
    assert "Someone else saved this line" in str(exc.value)
    assert OrderLine.objects.get(pk=line.pk).note == "first tab"


def test_ambiguous_create_finds_the_session_and_line_again(
    sandbox_url, user, settings, settled_sandbox_calls
):
    settings.COVAGE_READ_TIMEOUT = 0.5
    settings.COVAGE_CONNECT_TIMEOUT = 0.2  # together, how long an attempt may be in flight
    settings.COVAGE_MAX_RETRIES = 0
    session = services.create_session(user=user)
    line = services.add_line(user=user, session=session)
    settings.COVAGE_SANDBOX = {
        **settings.COVAGE_SANDBOX,
        "TIMEOUT_RATE": 1.0,
        "TIMEOUT_SECONDS": 1.0,
    }
    services.save_line_step(user=user, line=line, step="offer", data=OFFER, version=line.version)
    # Every answer was lost; the POSTs went through. Covage answers again:
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "TIMEOUT_RATE": 0.0}
    assert services.sync_session(session_id=session.pk) is services.SyncResult.DONE
    session.refresh_from_db()
    line.refresh_from_db()
    assert session.covage_id and line.covage_id
    assert ProductOrder.objects.filter(external_id=session.external_id).count() == 1
    assert (
        ProductOrderItem.objects.filter(product_order__external_id=session.external_id).count() == 1
    )


def test_confirm_refuses_incomplete_lines_and_lists_every_problem(sandbox_url, user):
    session = services.create_session(user=user)
    assert [p.field for p in services.request_confirmation(user=user, session=session)] == ["lines"]
    line = fill_line(user, session, enni="", postcode="", option_ids=["7021"])
    problems = services.request_confirmation(user=user, session=session)
    by_field = {p.field: p for p in problems}
    assert {"enni", "postcode", "cpe_networking_number", "cpe_serial_number"} <= set(by_field)
    assert by_field["enni"].step.slug == "technical"
    assert by_field["postcode"].step.slug == "address"
    assert by_field["postcode"].line == line
    session.refresh_from_db()
    assert session.sync_status != SyncStatus.CONFIRMING and not session.confirm_requested_at
    assert not SandboxCall.objects.filter(path__endswith="/confirm/").exists()


def test_confirm_end_to_end_exactly_once(sandbox_url, user):
    session = services.create_session(user=user)
    fill_line(user, session)
    fill_line(user, session, end_customer_name="Café Noël")
    assert services.request_confirmation(user=user, session=session) == []  # task runs inline
    # A second click, a second tab, a re-delivered task:
    assert services.request_confirmation(user=user, session=session) == []
    assert services.run_confirmation(session_id=session.pk) is services.ConfirmStep.POLL
    confirms = SandboxCall.objects.filter(method="PATCH", path__endswith="/confirm/")
    assert confirms.count() == 1
    assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL
    session.refresh_from_db()
    assert session.sync_status == SyncStatus.CONFIRMED and session.remote_state == "completed"
    for line in session.lines.all():
        assert line.remote_state in {"acknowledged", "held_adv_validation", "in_progress"}
        assert line.order_reference
        assert [c.state for c in line.state_changes.all()][:2] == ["created", "in_progress"]
    with pytest.raises(services.LockedError):
        services.add_line(user=user, session=session)


class SavedDuringTheCall(CovageClient):
    """The salesperson saves the line again while its PATCH is on its way to Covage."""

    def __init__(self, *args: Any, save: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.save = save

    def update_line(self, *args: Any, **kwargs: Any) -> schemas.OrderLine:
        answer = super().update_line(*args, **kwargs)
        self.save()
        return answer


def test_a_line_saved_while_it_was_being_sent_is_sent_again(sandbox_url, user):
    session = services.create_session(user=user)
    line = fill_line(user, session)
    # A change Covage has not got yet (its own sync not run).
    OrderLine.objects.filter(pk=line.pk).update(version=F("version") + 1)
    sent = line.version + 1

    def save() -> None:
        current = OrderLine.objects.get(pk=line.pk)
        services.save_line_step(
            user=user,
            line=current,
            step="technical",
            data={**TECHNICAL, "enni": "CN099999"},
            version=current.version,
        )

    patches = SandboxCall.objects.filter(method="PATCH", path__contains="/product_order_item/")
    before = patches.count()
    client = SavedDuringTheCall.from_settings(save=save)
    assert services.sync_session(session_id=session.pk, client=client) is services.SyncResult.DONE
    line.refresh_from_db()
    # Covage's answer is stored for the version it got; the newer one is still to be sent.
    assert line.synced_version == sent and line.version == sent + 1
    assert line.sync_status == SyncStatus.SYNCING and line.remote_payload
    assert OrderSession.objects.get(pk=session.pk).sync_status == SyncStatus.SYNCING
    assert services.sync_session(session_id=session.pk) is services.SyncResult.DONE
    line.refresh_from_db()
    assert line.synced_version == line.version and line.sync_status == SyncStatus.SYNCED
    assert OrderSession.objects.get(pk=session.pk).sync_status == SyncStatus.SYNCED
    assert patches.count() == before + 2


def test_a_line_history_holds_what_people_changed_not_covage_answers(sandbox_url, user):
    # The salesperson's saves are in the line's history; the worker's copies of Covage's
    # answers are not (they are kept as state entries and events instead).
    session = services.create_session(user=user)
    line = fill_line(user, session)
    typed = OrderLine.history.filter(id=line.pk)
    rows = typed.count()
    assert rows >= 1  # its saves, step by step
    assert services.request_confirmation(user=user, session=session) == []
    assert services.run_confirmation(session_id=session.pk) is services.ConfirmStep.POLL
    assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL
    line.refresh_from_db()
    assert line.covage_id and line.order_reference and line.state_changes.exists()
    assert session.events.filter(action="line_state", line=line).exists()
    assert typed.count() == rows


def test_a_poll_that_finds_nothing_new_writes_nothing(sandbox_url, user, settings):
    # Covage still working (an hour before the sandbox resolves): the polls read the same
    # answer each time. They count, but write neither the lines nor their history.
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "CONFIRM_DELAY": 3600.0}
    session = services.create_session(user=user)
    fill_line(user, session)
    fill_line(user, session, end_customer_name="Café Noël")
    assert services.request_confirmation(user=user, session=session) == []
    services.run_confirmation(session_id=session.pk)
    assert services.poll_session(session_id=session.pk) is services.PollResult.WAITING
    history = OrderLine.history.filter(session=session)
    rows, updated = history.count(), list(session.lines.values_list("updated_at", flat=True))
    assert services.poll_session(session_id=session.pk) is services.PollResult.WAITING
    assert services.poll_session(session_id=session.pk) is services.PollResult.WAITING
    assert history.count() == rows
    assert list(session.lines.values_list("updated_at", flat=True)) == updated
    session.refresh_from_db()
    assert session.poll_count == 3 and session.remote_state == "in_progress"
    assert set(session.lines.values_list("remote_state", flat=True)) == {"in_progress"}


def test_a_lost_confirm_answer_is_read_back_not_repeated(
    sandbox_url, user, settings, settled_sandbox_calls
):
    session = services.create_session(user=user)
    fill_line(user, session)
    settings.COVAGE_READ_TIMEOUT = 0.5
    settings.COVAGE_CONNECT_TIMEOUT = 0.2  # together, how long an attempt may be in flight
    settings.COVAGE_SANDBOX = {
        **settings.COVAGE_SANDBOX,
        "TIMEOUT_RATE": 1.0,
        "TIMEOUT_SECONDS": 1.0,
    }
    services.request_confirmation(user=user, session=session)  # the inline task's confirm times out
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "TIMEOUT_RATE": 0.0}
    # The task waits until the lost attempt can no longer be in flight, then reads back.
    deadline = time.monotonic() + 10
    step = services.run_confirmation(session_id=session.pk)
    while step is services.ConfirmStep.RETRY and time.monotonic() < deadline:
        time.sleep(0.1)
        step = services.run_confirmation(session_id=session.pk)
    assert step is services.ConfirmStep.POLL
    confirms = SandboxCall.objects.filter(method="PATCH", path__endswith="/confirm/")
    assert settled_sandbox_calls(confirms, 1) == 1
    session.refresh_from_db()
    assert session.confirmed_at and session.sync_status == SyncStatus.CONFIRMED


def test_rejected_lines_get_their_errors_and_can_be_copied(sandbox_url, user):
    session = services.create_session(user=user)
    good = fill_line(user, session)
    bad = fill_line(user, session)
    # Covage's own rules catch what slipped past ours (here: the contact removed in the admin).
    LineContact.objects.filter(line=bad).update(insee_code="")
    OrderLine.objects.filter(pk=bad.pk).update(version=bad.version + 1)
    services.sync_session(session_id=session.pk)
    bad.refresh_from_db()
    problems = services.request_confirmation(user=user, session=session)
    assert [p.field for p in problems] == ["insee_code"]
    # Force it through to see Covage reject it: confirm at the service level bypassing ours.
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.CONFIRMING, confirm_requested_at=timezone.now()
    )
    assert services.run_confirmation(session_id=session.pk) is services.ConfirmStep.POLL
    assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL
    session.refresh_from_db()
    bad.refresh_from_db()
    assert session.remote_state == "partial"
    assert bad.remote_state == "rejected_creation"
    paths = list(bad.termination_errors.values_list("property_path", flat=True))
    assert "related_contact_information[0].insee_code" in paths
    assert OrderLine.objects.get(pk=good.pk).order_reference
    # The poll's events, written together, still tell the owner (notifications).
    rejected = Notification.objects.filter(user=user, kind=Kind.LINE_REJECTED)
    assert list(rejected.values_list("line", flat=True)) == [bad.pk]

    copy = services.copy_rejected_lines(user=user, session=session)
    assert copy.pk != session.pk and copy.sync_status != SyncStatus.CONFIRMED
    copied = copy.lines.get()
    assert copied.end_customer_name == bad.end_customer_name and not copied.order_reference
    assert copied.contacts.get().street_name == "Rue Andreï Sakharov"


def test_created_orders_are_followed_until_delivered(sandbox_url, user, settings):
    session = services.create_session(user=user)
    fill_line(user, session)
    services.request_confirmation(user=user, session=session)
    assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL
    line = session.lines.get()
    assert services.track_orders() == 1
    line.refresh_from_db()
    # The sandbox shows one production step per TRACKING_STEP_SECONDS (30 s by default).
    assert line.tracking_state == "confirmed" and line.tracking_checked_at
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "TRACKING_STEP_SECONDS": 0}
    assert services.track_orders() == 1
    line.refresh_from_db()
    assert line.tracking_state == "active"
    codes = list(line.production_steps.values_list("code", flat=True))
    assert codes[0] == "production_manager_assigned" and "service_activated" in codes
    assert services.track_orders() == 0  # delivered: no longer followed
    assert session.events.filter(action="order_state").count() == 2


def test_a_sync_lease_belongs_to_one_worker_and_expires(user, settings, db):
    from orders.services.sync import LEASE_MARGIN_SECONDS, Lease

    settings.COVAGE_CONNECT_TIMEOUT = 0.0
    settings.COVAGE_READ_TIMEOUT = -10.0  # a lease that is already over when taken
    session = services.create_session(user=user)
    first, second = Lease(session.pk), Lease(session.pk)
    assert first.acquire()
    assert second.acquire()  # the first one's worker died: its lease ran out
    first.release()  # too late: no effect on the new holder
    assert OrderSession.objects.get(pk=session.pk).sync_lease_owner == second.owner
    settings.COVAGE_READ_TIMEOUT = 30.0
    second.renewed -= LEASE_MARGIN_SECONDS  # its margin has gone by: renewing writes
    second.renew()
    renewed_until = OrderSession.objects.get(pk=session.pk).sync_lease_until
    assert renewed_until > timezone.now() + dt.timedelta(seconds=30)
    second.renew()  # again within the margin: no write (one commit saved per call)
    assert OrderSession.objects.get(pk=session.pk).sync_lease_until == renewed_until
    assert not first.acquire()
    second.release()
    assert first.acquire()


def test_state_entries_are_stored_once_however_often_covage_repeats_them(user):
    # Every answer carries a line's whole state_change list. Dated entries already stored
    # are dropped by the database's constraint; undated ones by reading what is stored.
    session = services.create_session(user=user)
    line = fill_line(user, session)
    answer = _answer_with(
        {"state": "created", "change_date": "2026-11-30T09:00:00+01:00"},
        {"state": "acknowledged", "change_date": None},
        {"state": "created", "change_date": "2026-11-30T09:00:00+01:00"},
    )
    for _ in range(3):
        store_histories([(line, answer)])
    assert sorted(
        (change.state, change.change_date is None) for change in line.state_changes.all()
    ) == [("acknowledged", True), ("created", False)]
    later = _answer_with(
        {"state": "created", "change_date": "2026-11-30T09:00:00+01:00"},
        {"state": "acknowledged", "change_date": None},
        {"state": "in_progress", "change_date": "2026-11-30T10:00:00+01:00"},
    )
    store_histories([(line, later)])
    assert [change.state for change in line.state_changes.order_by("pk")] == [
        "created",
        "acknowledged",
        "in_progress",
    ]


def _answer_with(*entries: dict[str, object]) -> schemas.OrderLine:
    return schemas.OrderLine.from_wire(
        {"id": "POI-1", "state": "acknowledged", "state_change": list(entries)}
    )
