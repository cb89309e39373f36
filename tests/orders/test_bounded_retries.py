"""Every retry has a bound: past it, the session needs attention, with the reason in words,
the sweeper leaves it alone, and the back office resolves it (which queues the work again)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from factories import back_office_user, sales_user
from order_data import fill_line

from covage.sandbox.models import SandboxCall
from orders import services, tasks
from orders.models import OrderLine, OrderSession, SyncStatus
from orders.services import attention, sweeper
from orders.services.attention import resolve_attention

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def user() -> Any:
    return sales_user()


def covage_down(settings: Any) -> None:
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "ERROR_RATE": 1.0}
    settings.COVAGE_MAX_RETRIES = 0


def covage_up(settings: Any) -> None:
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "ERROR_RATE": 0.0}


def test_a_confirmation_past_its_retries_needs_attention_then_is_resolved(
    sandbox_url, user, settings
):
    session = services.create_session(user=user)
    fill_line(user, session)
    covage_down(settings)
    assert services.request_confirmation(user=user, session=session) == []
    # The last allowed retry fails too (after the first attempt can no longer be in flight).
    OrderSession.objects.filter(pk=session.pk).update(
        confirm_attempted_at=timezone.now() - dt.timedelta(minutes=5)
    )
    result = tasks.confirm_session_at_covage.apply((session.pk,), retries=tasks.CONFIRM_MAX_RETRIES)
    assert result.get() == "attention"
    session.refresh_from_db()
    assert session.needs_attention and "did not answer the confirmation" in session.attention_reason
    assert session.events.filter(action="needs_attention").exists()
    # Nothing automatic touches it any more.
    OrderSession.objects.filter(pk=session.pk).update(
        confirm_requested_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert session.pk not in sweeper.confirmations_stalled()

    covage_up(settings)
    assert resolve_attention(user=back_office_user(), session=session) == "confirm"
    session.refresh_from_db()
    assert not session.needs_attention
    assert session.sync_status == SyncStatus.CONFIRMED
    ok = SandboxCall.objects.filter(path__endswith="/confirm/", status=200)
    assert ok.count() == 1
    assert session.events.filter(action="attention_resolved").exists()


def test_following_a_session_past_its_retries_needs_attention(sandbox_url, user, settings):
    session = services.create_session(user=user)
    fill_line(user, session)
    session.refresh_from_db()
    OrderSession.objects.filter(pk=session.pk).update(
        sync_status=SyncStatus.CONFIRMED, confirmed_at=timezone.now(), remote_state="in_progress"
    )
    covage_down(settings)
    result = tasks.poll_session.apply((session.pk,), retries=tasks.CONFIRM_MAX_RETRIES)
    assert result.get() == "attention"
    session.refresh_from_db()
    assert session.needs_attention
    assert session.pk not in sweeper.polls_stalled(grace=dt.timedelta(0))


def test_following_a_session_covage_never_finishes_stops_after_its_last_poll(
    sandbox_url, user, settings
):
    # Covage still working after the last allowed poll: the session needs attention. The
    # task is called as a worker calls it (not eagerly), so that its next poll is scheduled.
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "CONFIRM_DELAY": 3600.0}
    session = services.create_session(user=user)
    fill_line(user, session)
    assert services.request_confirmation(user=user, session=session) == []
    session.refresh_from_db()
    assert session.confirmed_at and session.remote_state != "completed"
    OrderSession.objects.filter(pk=session.pk).update(poll_count=tasks.POLL_MAX - 2)
    assert tasks.poll_session(session.pk) == "waiting"  # poll POLL_MAX - 1: one more is due
    session.refresh_from_db()
    assert not session.needs_attention
    assert session.poll_count == tasks.POLL_MAX  # the next one ran (inline, in the tests)
    assert tasks.poll_session(session.pk) == "attention"  # POLL_MAX + 1: past the bound
    session.refresh_from_db()
    assert session.needs_attention and "has not finished" in session.attention_reason


def test_a_deleted_session_is_neither_confirmed_nor_followed(sandbox_url, user):
    session = services.create_session(user=user)
    fill_line(user, session)
    OrderSession.objects.filter(pk=session.pk).delete()
    calls = SandboxCall.objects.count()
    assert tasks.confirm_session_at_covage.apply((session.pk,)).get() == "gone"
    assert tasks.poll_session.apply((session.pk,)).get() == "gone"
    assert tasks.poll_session(session.pk) == "gone"
    assert SandboxCall.objects.count() == calls


def test_the_sweeper_re_queues_a_session_a_bounded_number_of_times(sandbox_url, user, settings):
    session = services.create_session(user=user)
    line = fill_line(user, session)
    # A change that never reached Covage, older than the sweeper's grace period.
    OrderLine.objects.filter(pk=line.pk).update(
        version=line.version + 1, updated_at=timezone.now() - dt.timedelta(hours=1)
    )
    covage_down(settings)
    for _ in range(attention.MAX_AUTOMATIC_RETRIES):
        assert tasks.sweep()["sync"] == 1
    counts = tasks.sweep()
    assert counts["sync"] == 0 and counts["attention"] == 1
    session.refresh_from_db()
    assert session.needs_attention and "many times" in session.attention_reason
    assert tasks.sweep()["sync"] == 0  # left alone from now on

    covage_up(settings)
    assert resolve_attention(user=back_office_user(), session=session) == "sync"
    line.refresh_from_db()
    assert line.synced_version == line.version
    session.refresh_from_db()
    assert session.automatic_retries == 0  # a sync that went through resets the count
