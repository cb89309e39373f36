"""Who sees which sessions and lines, the search, and the number of queries a page costs."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.utils import timezone
from factories import back_office_user, sales_user

from orders import selectors
from orders.models import LineStateChange, LineTerminationError, ProductionStep, SyncStatus

pytestmark = pytest.mark.django_db


def external_ids(sessions) -> list[str]:
    return sorted(session.external_id for session in sessions)


def test_sales_see_their_own_sessions_back_office_all(session_factory):
    alice, bob = sales_user(), sales_user()
    session_factory(owner=alice, external_id="A-1")
    session_factory(owner=bob, external_id="B-1")
    assert external_ids(selectors.sessions_for(alice)) == ["A-1"]
    assert external_ids(selectors.sessions_for(bob)) == ["B-1"]
    assert external_ids(selectors.sessions_for(back_office_user())) == ["A-1", "B-1"]


def test_session_for_and_line_for_hide_other_users_objects(session_factory, line_factory):
    alice, bob = sales_user(), sales_user()
    session = session_factory(owner=alice)
    line = line_factory(session=session)
    assert selectors.session_for(alice, session.pk) == session
    assert selectors.line_for(alice, session.pk, line.pk) == line
    with pytest.raises(Http404):
        selectors.session_for(bob, session.pk)
    with pytest.raises(Http404):
        selectors.line_for(bob, session.pk, line.pk)
    assert selectors.line_for(back_office_user(), session.pk, line.pk) == line


def test_line_for_refuses_deleted_lines_and_lines_of_another_session(session_factory, line_factory):
    user = sales_user()
    session, other = session_factory(owner=user), session_factory(owner=user)
    line = line_factory(session=session)
    with pytest.raises(Http404):
        selectors.line_for(user, other.pk, line.pk)
    line.deleted_at = timezone.now()
    line.save()
    with pytest.raises(Http404):
        selectors.line_for(user, session.pk, line.pk)
    assert selectors.live_lines(session) == []


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("CP-SEARCH", True),  # session external id
        ("cp-search", True),  # case-insensitive
        ("uuid-covage", True),  # session Covage id
        ("crème brûlée", True),  # line end customer name, accents as typed
        ("CRèME BRûLéE", True),  # ASCII letters in another case, accents as typed
        ("CRÈME BRÛLÉE", True),  # accented capitals (SQLite's LIKE alone misses these)
        ("ÉCLAIR", True),
        ("éclair", True),
        ("creme brulee", False),  # accents are not ignored
        ("pâtisserie", True),  # contact end customer name
        ("TMP-778", True),  # temporary reference
        ("cmd_x_0009", True),  # order reference
        ("LINE-EXT-5", True),  # line external id
        ("nowhere", False),
    ],
)
def test_search(session_factory, line_factory, contact_factory, search, found):
    user = sales_user()
    session = session_factory(owner=user, external_id="CP-SEARCH-1", covage_id="uuid-covage-1")
    line = line_factory(
        session=session,
        end_customer_name="Crème Brûlée SARL (Éclair)",
        temporary_reference="TMP-7781",
        order_reference="CMD_X_00094",
        external_id="LINE-EXT-5",
    )
    contact_factory(line=line, end_customer_name="La Pâtisserie du Coin")
    session_factory(owner=user, external_id="CP-OTHER")
    result = external_ids(selectors.sessions_for(user, search=search))
    assert result == (["CP-SEARCH-1"] if found else [])


def test_search_ignores_deleted_lines_and_lists_a_session_once(session_factory, line_factory):
    user = sales_user()
    session = session_factory(owner=user)
    line_factory(session=session, end_customer_name="Dupont")
    line_factory(session=session, end_customer_name="Dupont et fils")
    line_factory(session=session, end_customer_name="Dupontel", deleted_at=timezone.now())
    result = list(selectors.sessions_for(user, search="dupont"))
    assert len(result) == 1
    assert result[0].line_count == 2
    assert selectors.sessions_for(user, search="dupontel").count() == 0


def test_counts_and_filters(session_factory, line_factory):
    user = sales_user()
    session = session_factory(owner=user, remote_state="created", sync_status="sync_failed")
    line_factory(session=session, sync_status=SyncStatus.SYNC_FAILED)
    line_factory(session=session)
    session_factory(owner=user, remote_state="completed")
    (found,) = selectors.sessions_for(user, remote_state="created", sync_status="sync_failed")
    assert (found.line_count, found.failed_line_count) == (2, 1)
    today = timezone.localdate()
    assert selectors.sessions_for(user, date_from=today, date_to=today).count() == 2
    assert selectors.sessions_for(user, date_to=today.replace(year=today.year - 1)).count() == 0


def test_line_counts_leave_deleted_lines_out_for_every_viewer(session_factory, line_factory):
    owner = sales_user()
    counted = session_factory(owner=owner, external_id="COUNTED")
    line_factory(session=counted, sync_status=SyncStatus.SYNC_FAILED)
    line_factory(session=counted, sync_status=SyncStatus.SYNC_FAILED, deleted_at=timezone.now())
    line_factory(session=counted, sync_status=SyncStatus.SYNCED)
    line_factory(session=counted, deleted_at=timezone.now())
    session_factory(owner=owner, external_id="EMPTY")
    # The back office's list joins the owners: the counts still read the right session.
    for viewer in (owner, back_office_user()):
        counts = {
            session.external_id: (session.line_count, session.failed_line_count)
            for session in selectors.sessions_for(viewer, search="")
        }
        assert counts == {"COUNTED": (2, 1), "EMPTY": (0, 0)}
    (found,) = selectors.sessions_for(owner, search="COUNT", sync_status="draft")
    assert (found.line_count, found.failed_line_count) == (2, 1)


def test_list_costs_a_fixed_number_of_queries(
    session_factory, line_factory, django_assert_max_num_queries
):
    user = back_office_user()
    for _ in range(10):
        session = session_factory()
        line_factory.create_batch(3, session=session)
    # The user's role groups, then the page's sessions with their owners and line counts.
    with django_assert_max_num_queries(2):
        sessions = list(selectors.sessions_for(user, search="société")[:25])
        for session in sessions:
            _ = (session.owner.username, session.line_count)
    assert len(sessions) == 10


def test_live_lines_prefetch_everything_the_pages_read(
    session_factory, line_factory, contact_factory, django_assert_max_num_queries
):
    session = session_factory()
    for position in range(1, 6):
        line = line_factory(session=session, position=position)
        contact_factory(line=line)
        contact_factory(line=line, position=1)
        LineStateChange.objects.create(line=line, state="created", change_date=timezone.now())
        LineTerminationError.objects.create(line=line, code="E1", property_path="enni")
        ProductionStep.objects.create(line=line, code="production_manager_assigned")
    # The lines, then one query per prefetched relation, whatever the number of lines.
    with django_assert_max_num_queries(5):
        lines = selectors.live_lines(session)
        for line in lines:
            assert selectors.first_contact(line).position == 0
            assert [change.state for change in line.state_changes.all()] == ["created"]
            assert [error.code for error in line.termination_errors.all()] == ["E1"]
            assert [step.code for step in line.production_steps.all()] == [
                "production_manager_assigned"
            ]
    assert [line.position for line in lines] == [1, 2, 3, 4, 5]


def test_session_page_query_count_does_not_grow_with_lines(
    client, session_factory, line_factory, contact_factory, django_assert_max_num_queries
):
    user = sales_user()
    session = session_factory(owner=user)

    def add_lines(count):
        for _ in range(count):
            contact_factory(line=line_factory(session=session))

    add_lines(2)
    client.force_login(user)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("orders:session", args=[session.pk])).status_code == 200
    add_lines(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("orders:session", args=[session.pk])).status_code == 200


def test_is_locked():
    from orders.models import OrderSession

    assert not selectors.is_locked(OrderSession(sync_status=SyncStatus.SYNC_FAILED))
    assert selectors.is_locked(OrderSession(sync_status=SyncStatus.CONFIRMING))
    assert selectors.is_locked(OrderSession(sync_status=SyncStatus.CONFIRMED))
    assert selectors.is_locked(OrderSession(remote_state="partial"))
    assert selectors.is_locked(OrderSession(confirm_requested_at=timezone.now()))
