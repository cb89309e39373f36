"""Recovery on what the documents describe: the sandbox serves no undocumented read, and every
unknown outcome (a lost answer to a creating POST or to the confirmation) is settled from a
CSV export, the documented record; states are learnt from exports too.

Tasks run inline here, so the export the portal asks for runs, and settles, inside the call
that asked for it; its re-queued sync then finds the session's lease taken by that very call
and is left to the next run, which the tests make themselves (the sweeper does it for real).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from factories import sales_user
from order_data import OFFER, fill_line

from covage.sandbox.models import ProductOrder, ProductOrderItem, SandboxCall
from exports.models import ExportJob
from orders import services
from orders.models import LineContact, OrderLine, OrderSession, SyncStatus

pytestmark = pytest.mark.django_db(transaction=True)

UNDOCUMENTED_PATHS = ("/api/v1/product_order", "/api/v1/product_order/")


@pytest.fixture
def user() -> Any:
    return sales_user()


@pytest.fixture(params=["never called", "found missing"])
def documented_only(request, sandbox_url: str, settings: Any, tmp_path: Any) -> str:
    """The sandbox without its undocumented reads; the portal either configured not to use
    them, or finding out (405/404) and remembering it."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "UNDOCUMENTED": "off", "EXPORT_WINDOW": 0}
    settings.EXPORT_WINDOW_SECONDS = 0
    settings.COVAGE_UNDOCUMENTED_LOOKUPS = request.param == "found missing"
    settings.COVAGE_READ_TIMEOUT = 0.5
    settings.COVAGE_CONNECT_TIMEOUT = 0.2  # together, how long an attempt may be in flight
    settings.COVAGE_MAX_RETRIES = 0
    return request.param


def faults(settings: Any, **knobs: Any) -> None:
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, **knobs}


def past_the_in_flight_window(model: type, pk: int, field: str) -> None:
    model.objects.filter(pk=pk).update(**{field: timezone.now() - dt.timedelta(seconds=5)})


def refused_calls(mode: str) -> list[tuple[str, str, int]]:
    """4xx answers of the sandbox, less the undocumented reads the portal tried once."""
    calls = SandboxCall.objects.filter(status__gte=400, status__lt=500).exclude(status=429)
    found = [(c.method, c.path, c.status) for c in calls]
    if mode == "found missing":
        found = [c for c in found if not (c[0] == "GET" and c[1].startswith(UNDOCUMENTED_PATHS))]
    return found


def undocumented_calls() -> int:
    return (
        SandboxCall.objects.filter(method="GET", path__startswith="/api/v1/product_order")
        .exclude(path__contains="/export/")
        .count()
    )


def test_a_lost_session_create_is_found_in_an_export_and_not_sent_again(
    documented_only, user, settings, settled_sandbox_calls
):
    session = services.create_session(user=user)
    line = services.add_line(user=user, session=session)
    faults(settings, TIMEOUT_RATE=1.0, TIMEOUT_SECONDS=1.0)
    services.save_line_step(user=user, line=line, step="offer", data=OFFER, version=line.version)
    faults(settings, TIMEOUT_RATE=0.0)
    settled_sandbox_calls(
        SandboxCall.objects.filter(method="POST", path="/api/v1/product_order"), 1
    )
    # The POST went through, its answer was lost: Covage has the session, the portal not.
    assert ProductOrder.objects.filter(external_id=session.external_id).count() == 1
    assert not OrderSession.objects.get(pk=session.pk).covage_id

    past_the_in_flight_window(OrderSession, session.pk, "create_attempted_at")
    assert services.sync_session(session_id=session.pk) is services.SyncResult.WAITING
    session.refresh_from_db()
    remote = ProductOrder.objects.get(external_id=session.external_id)
    assert session.covage_id == str(remote.uid)  # linked from the export
    assert session.settle_after is None
    job = ExportJob.objects.get(trigger=ExportJob.Trigger.SYSTEM)
    assert job.status == ExportJob.Status.SUCCEEDED
    assert session.events.filter(action="session_found_in_export").exists()

    assert services.sync_session(session_id=session.pk) is services.SyncResult.DONE
    line.refresh_from_db()
    assert line.covage_id and line.sync_status == SyncStatus.SYNCED
    assert ProductOrder.objects.filter(external_id=session.external_id).count() == 1
    assert ProductOrderItem.objects.filter(product_order=remote).count() == 1
    assert refused_calls(documented_only) == []
    if documented_only == "never called":
        assert undocumented_calls() == 0


def test_a_session_create_that_never_arrived_is_sent_again_after_the_export(
    documented_only, user, settings
):
    session = services.create_session(user=user)
    line = services.add_line(user=user, session=session)
    faults(settings, ERROR_RATE=1.0)  # 502 before anything is done: the outcome is unknown
    services.save_line_step(user=user, line=line, step="offer", data=OFFER, version=line.version)
    faults(settings, ERROR_RATE=0.0)
    assert not ProductOrder.objects.filter(external_id=session.external_id).exists()

    past_the_in_flight_window(OrderSession, session.pk, "create_attempted_at")
    assert services.sync_session(session_id=session.pk) is services.SyncResult.WAITING
    session.refresh_from_db()
    assert not session.covage_id and session.create_attempted_at is None
    assert session.events.filter(action="session_not_at_covage").exists()

    assert services.sync_session(session_id=session.pk) is services.SyncResult.DONE
    session.refresh_from_db()
    assert ProductOrder.objects.filter(external_id=session.external_id).count() == 1
    assert session.covage_id
    assert refused_calls(documented_only) == []


def test_a_lost_line_create_is_found_in_an_export(
    documented_only, user, settings, settled_sandbox_calls
):
    session = services.create_session(user=user)
    fill_line(user, session)
    second = services.add_line(user=user, session=session)
    faults(settings, TIMEOUT_RATE=1.0, TIMEOUT_SECONDS=1.0)
    services.save_line_step(
        user=user, line=second, step="offer", data=OFFER, version=second.version
    )
    faults(settings, TIMEOUT_RATE=0.0)
    creates = SandboxCall.objects.filter(method="POST", path__endswith="/product_order_item")
    settled_sandbox_calls(creates, 2)
    session.refresh_from_db()
    remote = ProductOrder.objects.get(uid=session.covage_id)

    past_the_in_flight_window(OrderLine, second.pk, "create_attempted_at")
    assert services.sync_session(session_id=session.pk) is services.SyncResult.WAITING
    second.refresh_from_db()
    assert second.covage_id  # linked from the export
    assert session.events.filter(action="line_found_in_export").exists()
    assert services.sync_session(session_id=session.pk) is services.SyncResult.DONE
    second.refresh_from_db()
    assert second.sync_status == SyncStatus.SYNCED
    assert ProductOrderItem.objects.filter(product_order=remote).count() == 2
    assert refused_calls(documented_only) == []


def test_a_lost_confirmation_is_settled_from_an_export_not_repeated(
    documented_only, user, settings, settled_sandbox_calls
):
    session = services.create_session(user=user)
    fill_line(user, session)
    faults(settings, TIMEOUT_RATE=1.0, TIMEOUT_SECONDS=1.0)
    assert services.request_confirmation(user=user, session=session) == []
    faults(settings, TIMEOUT_RATE=0.0)
    confirms = SandboxCall.objects.filter(method="PATCH", path__endswith="/confirm/")
    settled_sandbox_calls(confirms, 1)

    past_the_in_flight_window(OrderSession, session.pk, "confirm_attempted_at")
    assert services.run_confirmation(session_id=session.pk) is services.ConfirmStep.WAITING
    session.refresh_from_db()
    assert session.sync_status == SyncStatus.CONFIRMED and session.confirmed_at
    assert session.remote_state == "completed"  # the state the export holds
    assert confirms.count() == 1
    line = session.lines.get()
    assert line.remote_state in {"acknowledged", "held_adv_validation", "in_progress"}
    assert line.order_reference
    assert services.poll_session(session_id=session.pk) is services.PollResult.FINAL
    assert refused_calls(documented_only) == []


def test_a_confirmation_that_never_arrived_is_sent_once_more(documented_only, user, settings):
    session = services.create_session(user=user)
    fill_line(user, session)
    faults(settings, ERROR_RATE=1.0)
    assert services.request_confirmation(user=user, session=session) == []
    faults(settings, ERROR_RATE=0.0)
    past_the_in_flight_window(OrderSession, session.pk, "confirm_attempted_at")
    # The export shows the session still "created": the confirmation is sent again (inline).
    services.run_confirmation(session_id=session.pk)
    session.refresh_from_db()
    assert session.events.filter(action="confirmation_not_at_covage").exists()
    assert session.sync_status == SyncStatus.CONFIRMED
    # Following it: the next export brings its final state.
    assert services.poll_session(session_id=session.pk) is services.PollResult.EXPORT
    session.refresh_from_db()
    assert session.remote_state == "completed"
    ok = SandboxCall.objects.filter(method="PATCH", path__endswith="/confirm/", status=200)
    assert ok.count() == 1
    assert refused_calls(documented_only) == []


def test_states_are_learnt_from_exports_when_sessions_cannot_be_read_back(
    documented_only, user, settings
):
    session = services.create_session(user=user)
    fill_line(user, session)
    bad = fill_line(user, session)
    # Covage's own rules catch what slipped past ours (here: the contact changed directly).
    LineContact.objects.filter(line=bad).update(insee_code="")
    OrderLine.objects.filter(pk=bad.pk).update(version=bad.version + 1)
    services.sync_session(session_id=session.pk)
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.CONFIRMING, confirm_requested_at=timezone.now()
    )
    assert services.run_confirmation(session_id=session.pk) is services.ConfirmStep.POLL
    # Reading the session back is not possible: an export is asked for, and settles it.
    assert services.poll_session(session_id=session.pk) is services.PollResult.EXPORT
    session.refresh_from_db()
    assert session.remote_state == "partial"
    states = sorted(session.lines.values_list("remote_state", flat=True))
    assert "rejected_creation" in states
    rejected = session.lines.get(remote_state="rejected_creation")
    assert rejected.termination_errors.exists()  # the reasons, from the export
    assert ExportJob.objects.filter(trigger=ExportJob.Trigger.SYSTEM).exists()
    assert refused_calls(documented_only) == []
    if documented_only == "never called":
        assert undocumented_calls() == 0


def test_a_line_unknown_to_covage_stops_the_sync_with_the_reason(sandbox_url, user, settings):
    session = services.create_session(user=user)
    line = fill_line(user, session)
    ProductOrderItem.objects.filter(uid=line.covage_id).delete()  # gone at Covage
    line = services.save_line_step(
        user=user, line=line, step="review", data={"note": "encore"}, version=line.version
    )
    line.refresh_from_db()
    assert line.sync_status == SyncStatus.SYNC_FAILED
    assert "no longer knows" in line.last_sync_error
    assert line.rejected_version == line.version  # not sent again by itself
    from orders.services import sweeper

    assert session.pk not in sweeper.sessions_needing_sync(grace=dt.timedelta(0))
    # The user's Retry sends it again (and Covage says the same).
    services.request_sync(user=user, session=session)
    assert SandboxCall.objects.filter(method="PATCH", status=404).count() == 2


def test_a_session_unknown_to_covage_ends_the_confirmation_with_the_reason(
    sandbox_url, user, settings
):
    session = services.create_session(user=user)
    fill_line(user, session)
    session.refresh_from_db()
    ProductOrder.objects.filter(uid=session.covage_id).delete()
    assert services.request_confirmation(user=user, session=session) == []
    session.refresh_from_db()
    assert session.sync_status == SyncStatus.SYNC_FAILED
    assert session.confirm_requested_at is None
    assert "no longer knows" in session.last_sync_error
    assert SandboxCall.objects.filter(path__endswith="/confirm/", status=404).count() == 1
