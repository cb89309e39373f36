"""The home dashboard: each count, the list it links to, per role; access; queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import back_office_user, sales_user
from tracking_data import confirmed_session, make_line, make_session, rejected_line

from orders.models import LineStateChange, SyncStatus

pytestmark = pytest.mark.django_db


def tile_count(body: str, key: str) -> int:
    match = re.search(
        rf'data-count="{key}">\s*<span class="card-body d-block">\s*'
        r'<span class="d-block display-6 fw-semibold text-body">(\d+)</span>',
        body,
    )
    assert match, f"no tile {key}"
    return int(match.group(1))


def tile_url(body: str, key: str) -> str:
    match = re.search(rf'href="([^"]+)" data-count="{key}"', body)
    assert match, f"no tile {key}"
    return match.group(1).replace("&amp;", "&")


@pytest.fixture
def world():
    """Sophie's sessions in every state the dashboard counts, and another salesperson's."""
    sophie, other = sales_user(username="sophie"), sales_user(username="other")
    now = timezone.now()
    draft = make_session(sophie)
    make_line(draft)
    failed = make_session(sophie, sync_status=SyncStatus.SYNCED)
    make_line(failed, sync_status=SyncStatus.SYNC_FAILED)
    waiting = make_session(sophie, sync_status=SyncStatus.CONFIRMING)
    make_line(waiting)
    confirmed = confirmed_session(sophie, remote_state="partial")
    rejected_line(confirmed, code="required", path="enni")
    rejected_line(confirmed, code="required", path="enni")
    make_line(
        confirmed,
        remote_state="acknowledged",
        order_reference="CMD_1",
        tracking_state="in_progress",
        city="Le Havre",
    )
    make_line(
        confirmed,
        remote_state="acknowledged",
        order_reference="CMD_2",
        tracking_state="active",
        order_date=now - dt.timedelta(days=20),
        delivered_at=now,
    )
    make_line(
        confirmed,
        remote_state="acknowledged",
        order_reference="CMD_3",
        tracking_state="active",
        delivered_at=now - dt.timedelta(days=70),
    )
    make_line(confirmed, remote_state="held_adv_validation")
    attention = make_session(sophie, attention_since=now, attention_reason="Stopped")
    # Someone else's: never in Sophie's counts.
    theirs = confirmed_session(other)
    rejected_line(theirs, code="siret_required_when_known", path="siret")
    make_session(other)
    return {"sophie": sophie, "other": other, "attention": attention}


EXPECTED_SALES = {
    "drafts": 3,  # not sent for confirmation: the draft, the failed sync, the stopped one
    "rejected": 2,
    "sync_failed": 1,
    "waiting": 1,
    "held": 1,
    "in_production": 1,
    "delivered_month": 1,
}


def test_home_is_the_dashboard_for_a_salesperson(client, world):
    client.force_login(world["sophie"])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    for key, expected in EXPECTED_SALES.items():
        assert tile_count(body, key) == expected, key
    assert 'data-count="attention"' not in body
    assert 'data-count="reconciliation"' not in body


@pytest.mark.parametrize("key", sorted(EXPECTED_SALES))
def test_every_count_links_to_a_list_with_that_many_rows(client, world, key):
    client.force_login(world["sophie"])
    url = tile_url(client.get(reverse("home")).content.decode(), key)
    listed = client.get(url)
    assert listed.status_code == 200
    rows = re.findall(r"<tr data-(?:line|session)=", listed.content.decode())
    assert len(rows) == EXPECTED_SALES[key]


def test_back_office_counts_every_salesperson_plus_attention_and_reconciliation(client, world):
    client.force_login(back_office_user())
    body = client.get(reverse("home")).content.decode()
    assert tile_count(body, "rejected") == 3
    assert tile_count(body, "drafts") == 4
    assert tile_count(body, "attention") == 1
    assert tile_count(body, "reconciliation") == 0
    listed = client.get(tile_url(body, "attention")).content.decode()
    assert f'data-session="{world["attention"].pk}"' in listed
    assert client.get(tile_url(body, "reconciliation")).status_code == 200


def test_top_rejection_reasons_in_words(client, world):
    client.force_login(world["sophie"])
    body = client.get(reverse("home")).content.decode()
    assert "ENNI (collection port) is missing: Covage needs it to create the order." in body
    # Another salesperson's reason is not Sophie's.
    assert "although" not in body


def test_dashboard_queries_do_not_grow_with_lines(client, django_assert_max_num_queries):
    sophie = sales_user()
    session = confirmed_session(sophie)
    for index in range(60):
        line = rejected_line(session) if index % 3 == 0 else make_line(session)
        LineStateChange.objects.create(line=line, state="acknowledged", change_date=timezone.now())
    client.force_login(sophie)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("home")).status_code == 200


def test_home_needs_a_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302


def test_dashboard_changes_nothing_on_post(client):
    client.force_login(sales_user())
    assert client.post(reverse("home")).status_code == 405


def test_chart_coordinates_stay_numbers_in_french(client):
    """French writes 12,5: an SVG coordinate must stay 12.5, or the chart breaks."""
    sophie = sales_user()
    session = confirmed_session(sophie)
    for _ in range(3):
        make_line(session, remote_state="acknowledged")
    rejected_line(session)
    client.force_login(sophie)
    body = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in body
    assert "<rect" in body
    assert not re.search(r'\b(?:x|y|width|height)="-?\d+,\d', body)
