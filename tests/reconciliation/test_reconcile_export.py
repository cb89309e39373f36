"""Every export is compared with the portal's records: each kind of difference, over real HTTP
to the sandbox (Covage), whose records the tests change directly as Covage would."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from order_data import fill_line

from covage.sandbox.models import ProductOrder, ProductOrderItem, SandboxAccount
from exports.models import ExportJob
from exports.signals import export_stored
from orders import services
from orders.models import OrderLine, OrderSession
from reconciliation import services as reconciliation
from reconciliation.models import Comparison, Difference

pytestmark = pytest.mark.django_db(transaction=True)

Kind = Difference.Kind
Status = Difference.Status


# --- Covage's side, changed as Covage would ---------------------------------------------------


def covage_item(line: OrderLine) -> ProductOrderItem:
    return ProductOrderItem.objects.get(uid=line.covage_id)


def change_at_covage(line: OrderLine, **data: Any) -> None:
    item = covage_item(line)
    item.data = {**item.data, **data}
    item.save(update_fields=["data"])


def change_contact_at_covage(line: OrderLine, **values: Any) -> None:
    item = covage_item(line)
    contacts = item.data["related_contact_information"]
    contacts[0] = {**contacts[0], **values}
    item.save(update_fields=["data"])


def foreign_session(external_id: str, *, lines: int = 1, state: str = "created") -> ProductOrder:
    """A session Covage has that the portal never created (another tool, the same account)."""
    account, _ = SandboxAccount.objects.get_or_create(username="demo")
    session = ProductOrder.objects.create(
        account=account, external_id=external_id, project_id="PRJ-2024-001", state=state
    )
    for number in range(lines):
        ProductOrderItem.objects.create(
            product_order=session,
            state="created",
            data={
                "external_id": f"{external_id}-L{number + 1}",
                "offer_family": "BPE",
                "offer_technology": "FIBDE",
                "end_customer_name": "Boulangerie Éloïse",
            },
        )
    return session


def differences(**filters: Any) -> list[Difference]:
    return list(Difference.objects.filter(**filters).order_by("pk"))


@pytest.fixture
def synced(sales: Any, covage: Any) -> tuple[OrderSession, OrderLine]:
    """A session with one complete line, saved at Covage."""
    session = services.create_session(user=sales, project_id="PRJ-2024-001")
    line = fill_line(sales, session)
    line.refresh_from_db()
    assert line.covage_id and not line.needs_sync
    session.refresh_from_db()
    return session, line


# --- No difference ----------------------------------------------------------------------------


def test_an_export_matching_the_portal_records_no_difference(synced, run_export, sales):
    job = run_export(user=sales)

    comparison = Comparison.objects.get(export_job=job)
    assert comparison.status == Comparison.Status.DONE
    assert comparison.summary["rows"] == 1
    assert comparison.summary["sessions"] == 1 and comparison.summary["lines"] == 1
    assert comparison.summary["found"] == dict.fromkeys(Kind.values, 0)
    assert comparison.runs == 1
    assert comparison.export_started_at == job.started_at
    assert Difference.objects.count() == 0


def test_scheduled_and_portal_exports_are_compared_too(synced, run_export):
    for trigger in (ExportJob.Trigger.SCHEDULED, ExportJob.Trigger.SYSTEM):
        job = run_export(trigger=trigger)
        assert Comparison.objects.get(export_job=job).status == Comparison.Status.DONE


# --- A different value ------------------------------------------------------------------------


def test_a_different_value_is_listed_per_field_with_what_each_side_holds(synced, run_export):
    _, line = synced
    change_at_covage(line, note="Livraison le matin", vlan_reference=1300)
    change_contact_at_covage(line, city="Rouen")

    job = run_export()

    found = {d.field: d for d in differences(kind=Kind.VALUE)}
    assert set(found) == {"note", "vlan_reference", "contact_city"}
    note = found["note"]
    assert note.status == Status.OPEN
    assert (note.portal_value, note.covage_value) == ("", "Livraison le matin")
    assert note.field_label == "Note"
    assert note.line == line and note.session_id == line.session_id
    assert note.covage_line_id == line.covage_id and note.external_id == line.external_id
    assert note.export_job == job
    assert (found["vlan_reference"].portal_value, found["vlan_reference"].covage_value) == (
        "1257",
        "1300",
    )
    assert found["vlan_reference"].field_label == "VLAN"
    city = found["contact_city"]
    assert (city.portal_value, city.covage_value) == ("Mont-Saint-Aignan", "Rouen")
    assert city.field_label == "City (contact entry)"
    # The rest of the line (accents, options, booleans, coordinates, phone) is the same.
    assert Difference.objects.count() == 3


def test_a_line_edited_since_its_last_sync_is_not_compared(synced, run_export):
    _, line = synced
    change_at_covage(line, note="Covage's note")
    # Saved in the portal, not sent yet: Covage holds the previous version, as expected.
    OrderLine.objects.filter(pk=line.pk).update(version=line.version + 1, note="Draft note")

    run_export()

    assert differences(kind=Kind.VALUE) == []


def test_the_same_difference_found_again_is_updated_not_duplicated(synced, run_export):
    _, line = synced
    change_at_covage(line, note="First")
    first_job = run_export()
    [first] = differences(kind=Kind.VALUE)

    change_at_covage(line, note="Second")
    second_job = run_export()

    [again] = differences(kind=Kind.VALUE)
    assert again.pk == first.pk and again.status == Status.OPEN
    assert again.covage_value == "Second"
    assert again.export_job == second_job != first_job
    assert again.first_seen == first.first_seen and again.last_seen > first.last_seen
    summary = Comparison.objects.get(export_job=second_job).summary
    assert summary["updated"] == 1 and summary["new"]["value"] == 0


def test_an_open_difference_no_longer_found_is_gone(synced, run_export):
    _, line = synced
    change_at_covage(line, note="Wrong")
    run_export()
    [difference] = differences(kind=Kind.VALUE)

    change_at_covage(line, note="")  # corrected at Covage
    job = run_export()

    difference.refresh_from_db()
    assert difference.status == Status.GONE
    assert difference.resolved_at is not None
    assert f"#{job.pk}" in difference.resolution
    assert Comparison.objects.get(export_job=job).summary["gone"] == 1


def test_a_dismissed_difference_stays_dismissed_until_covage_holds_another_value(
    synced, run_export, back_office
):
    _, line = synced
    change_at_covage(line, note="Agreed by phone")
    run_export()
    [difference] = differences(kind=Kind.VALUE)
    reconciliation.dismiss(user=back_office, difference=difference, reason="Agreed with Covage")

    run_export()
    assert differences(kind=Kind.VALUE, status=Status.OPEN) == []

    change_at_covage(line, note="Changed again")
    run_export()
    [reopened] = differences(kind=Kind.VALUE, status=Status.OPEN)
    assert reopened.pk != difference.pk and reopened.covage_value == "Changed again"


# --- A different state ------------------------------------------------------------------------


def test_covage_states_are_applied_and_recorded_with_both_sides(synced, run_export):
    session, line = synced
    assert (session.remote_state, line.remote_state) == ("created", "created")
    ProductOrder.objects.filter(uid=session.covage_id).update(state="in_progress")
    ProductOrderItem.objects.filter(uid=line.covage_id).update(state="acknowledged")

    job = run_export()

    session.refresh_from_db()
    line.refresh_from_db()
    assert session.remote_state == "in_progress"
    assert line.remote_state == "acknowledged"
    states = {d.field: d for d in differences(kind=Kind.STATE)}
    assert set(states) == {"product_order_state", "state"}
    for difference in states.values():
        assert difference.status == Status.APPLIED
        assert difference.export_job == job
        assert difference.resolved_at is not None
        assert "source of truth" in difference.resolution
    assert (states["state"].portal_value, states["state"].covage_value) == (
        "created",
        "acknowledged",
    )
    assert states["state"].line == line
    assert (
        states["product_order_state"].portal_value,
        states["product_order_state"].covage_value,
    ) == ("created", "in_progress")
    assert states["product_order_state"].line is None
    assert session.events.filter(action="line_state").exists()


# --- Unknown to the portal --------------------------------------------------------------------


def test_a_session_covage_has_and_the_portal_does_not_is_listed_once(synced, run_export):
    foreign = foreign_session("OTHER-TOOL-1", lines=3, state="completed")

    run_export()

    [unknown] = differences(kind=Kind.UNKNOWN_AT_PORTAL)
    assert unknown.covage_session_id == str(foreign.uid)
    assert unknown.covage_line_id == ""
    assert unknown.external_id == "OTHER-TOOL-1"
    assert unknown.session is None and unknown.portal_value == ""
    assert "completed" in unknown.covage_value
    assert unknown.status == Status.OPEN


def test_a_line_covage_has_in_a_known_session_is_listed(synced, run_export):
    session, _ = synced
    remote = ProductOrder.objects.get(uid=session.covage_id)
    extra = ProductOrderItem.objects.create(
        product_order=remote,
        state="created",
        data={
            "external_id": "ADDED-AT-COVAGE",
            "offer_family": "BPEA",
            "offer_technology": "FIBDE",
        },
    )

    run_export()

    [unknown] = differences(kind=Kind.UNKNOWN_AT_PORTAL)
    assert unknown.covage_line_id == str(extra.uid)
    assert unknown.covage_session_id == session.covage_id
    assert unknown.session == session and unknown.line is None
    assert unknown.external_id == "ADDED-AT-COVAGE"
    assert "BPEA FIBDE" in unknown.covage_value


def test_a_session_whose_creation_is_being_settled_is_not_a_stranger(synced, run_export, sales):
    pending = services.create_session(user=sales, external_id="LOST-ANSWER")
    foreign_session("LOST-ANSWER", lines=0)
    # The portal sent the POST, lost the answer and waits for an export started later than
    # this export: the portal's own recovery links it, nobody has to.
    later = timezone.now() + timedelta(hours=1)
    OrderSession.objects.filter(pk=pending.pk).update(
        create_attempted_at=timezone.now(), settle_after=later
    )

    job = run_export()

    assert differences(kind=Kind.UNKNOWN_AT_PORTAL) == []
    assert Comparison.objects.get(export_job=job).summary["being_created"] == 1


def test_a_session_waiting_on_this_export_is_linked_first_and_not_listed(synced, run_export, sales):
    pending = services.create_session(user=sales, external_id="SETTLED-BY-EXPORT")
    remote = foreign_session("SETTLED-BY-EXPORT", lines=0)
    OrderSession.objects.filter(pk=pending.pk).update(
        create_attempted_at=timezone.now() - timedelta(minutes=5),
        settle_after=timezone.now() - timedelta(minutes=1),
    )

    run_export()

    pending.refresh_from_db()
    assert pending.covage_id == str(remote.uid)  # settled before the comparison
    assert differences(kind=Kind.UNKNOWN_AT_PORTAL) == []
    assert differences(kind=Kind.MISSING_AT_COVAGE) == []


# --- Missing at Covage ------------------------------------------------------------------------


def test_a_line_missing_at_covage_is_listed(synced, run_export):
    session, line = synced
    covage_item(line).delete()

    run_export()

    [missing] = differences(kind=Kind.MISSING_AT_COVAGE)
    assert missing.line == line and missing.session == session
    assert missing.covage_line_id == line.covage_id
    assert missing.covage_value == ""
    # Values only: the line (its position) is the difference's subject.
    assert missing.portal_value == f"{line.remote_state} · Pâtisserie Gérard"


def test_a_session_missing_at_covage_is_listed_once_for_it_and_its_lines(synced, run_export, sales):
    session, _ = synced
    fill_line(sales, session)
    ProductOrder.objects.filter(uid=session.covage_id).delete()

    run_export()

    [missing] = differences(kind=Kind.MISSING_AT_COVAGE)
    assert missing.session == session and missing.line is None
    assert missing.covage_session_id == session.covage_id
    assert missing.external_id == session.external_id


def test_a_line_deleted_in_the_portal_is_expected_to_be_missing(synced, run_export):
    _, line = synced
    covage_item(line).delete()
    # Deleted in the portal; its DELETE is on its way to Covage (or done).
    OrderLine.objects.filter(pk=line.pk).update(deleted_at=timezone.now())

    run_export()

    assert differences(kind=Kind.MISSING_AT_COVAGE) == []


def test_what_the_portal_linked_after_the_export_started_is_not_missing(
    synced, run_export, settings
):
    _, line = synced
    job = run_export()
    covage_item(line).delete()
    # The line was (re)sent after this export's snapshot was taken: it cannot be in it.
    OrderLine.objects.filter(pk=line.pk).update(
        last_synced_at=job.started_at + timedelta(seconds=1)
    )
    reconciliation.reconcile_export(job_id=job.pk)
    assert differences(kind=Kind.MISSING_AT_COVAGE) == []


# --- One export compared twice; a flood of strangers --------------------------------------------


def test_comparing_the_same_export_twice_records_nothing_twice(synced, run_export):
    _, line = synced
    change_at_covage(line, note="Covage's")
    ProductOrderItem.objects.filter(uid=line.covage_id).update(state="acknowledged")
    foreign_session("OTHER-TOOL-2")
    job = run_export()
    before = sorted(Difference.objects.values_list("kind", "key", "status"))
    assert {kind for kind, _, _ in before} == {Kind.VALUE, Kind.STATE, Kind.UNKNOWN_AT_PORTAL}

    summary = reconciliation.reconcile_export(job_id=job.pk)

    assert sorted(Difference.objects.values_list("kind", "key", "status")) == before
    assert summary.new == dict.fromkeys(Kind.values, 0)
    assert summary.found[Kind.VALUE] == 1 and summary.found[Kind.UNKNOWN_AT_PORTAL] == 1
    comparison = Comparison.objects.get(export_job=job)
    assert comparison.runs == 2 and comparison.status == Comparison.Status.DONE


def test_one_export_records_at_most_the_cap_of_each_kind_and_says_so(
    synced, run_export, covage, settings
):
    settings.RECONCILIATION_MAX_NEW_PER_KIND = 5
    # The sandbox pads the file with demo sessions the portal has never heard of.
    covage(EXPORT_MIN_BYTES=30_000)
    _, line = synced
    change_at_covage(line, note="Still recorded")

    job = run_export()

    summary = Comparison.objects.get(export_job=job).summary
    assert summary["rows"] > 20
    assert summary["capped"] is True and summary["cap"] == 5
    assert summary["new"]["unknown_at_portal"] == 5
    assert summary["found"]["unknown_at_portal"] == summary["rows"] - 1
    assert summary["not_recorded"]["unknown_at_portal"] == summary["rows"] - 1 - 5
    assert Difference.objects.filter(kind=Kind.UNKNOWN_AT_PORTAL).count() == 5
    # Other kinds are not crowded out.
    assert Difference.objects.filter(kind=Kind.VALUE).count() == 1


def test_an_export_without_its_file_is_not_compared(synced, run_export):
    job = run_export()
    job.file.delete(save=True)
    summary = reconciliation.reconcile_export(job_id=job.pk)
    assert summary.status == "skipped"


def test_an_export_announced_again_is_compared_again_without_duplicates(synced, run_export):
    _, line = synced
    change_at_covage(line, note="Covage's")
    job = run_export()
    [difference] = differences(kind=Kind.VALUE)

    # The portal announces a stored export again when a session starts waiting on it.
    export_stored.send(sender=ExportJob, job=job)

    assert Comparison.objects.get(export_job=job).runs == 2
    assert differences() == [difference]
