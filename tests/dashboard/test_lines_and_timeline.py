"""The list of lines across sessions (filters in the URL, paging, access) and the
production timeline on the line page and in the list."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import sales_user
from tracking_data import confirmed_session, make_line, make_session

from dashboard import charts, selectors
from orders.models import LineStateChange, ProductionStep

pytestmark = pytest.mark.django_db


def listed(client, **query) -> list[int]:
    response = client.get(reverse("dashboard:lines"), query)
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr data-line="(\d+)"', response.content.decode())]


@pytest.fixture
def lines(client):
    owner = sales_user()
    session = confirmed_session(owner)
    rouen = make_line(session, end_customer_name="Boulangerie Martin", city="Rouen")
    havre = make_line(
        session,
        end_customer_name="Garage Leroy",
        city="Le Havre",
        offer_family="BPEA",
        remote_state="acknowledged",
        order_reference="CMD_X_00009444",
        order_date=timezone.now() - dt.timedelta(days=3),
    )
    theirs = make_line(make_session(sales_user()), end_customer_name="Garage Leroy")
    client.force_login(owner)
    return {"rouen": rouen, "havre": havre, "theirs": theirs}


def test_each_filter_is_in_the_query_string(client, lines):
    rouen, havre = lines["rouen"].pk, lines["havre"].pk
    assert sorted(listed(client)) == sorted([rouen, havre])
    assert listed(client, q="leroy") == [havre]
    assert listed(client, customer="martin") == [rouen]
    assert listed(client, city="havre") == [havre]
    assert listed(client, offer="BPEA") == [havre]
    assert listed(client, state="acknowledged") == [havre]
    assert listed(client, order_reference="9444") == [havre]
    today = timezone.localdate().isoformat()
    assert sorted(listed(client, created_from=today)) == sorted([rouen, havre])
    assert listed(client, ordered_to=today) == [havre]
    assert listed(client, sort="customer") == [rouen, havre]
    assert listed(client, sort="-customer") == [havre, rouen]


def test_a_wrong_value_in_the_url_is_explained_not_a_500(client, lines):
    response = client.get(reverse("dashboard:lines"), {"created_from": "yesterday", "sort": "x"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()


def test_paginated_and_filters_kept_across_pages(client):
    owner = sales_user()
    session = confirmed_session(owner)
    for _ in range(30):
        make_line(session, end_customer_name="Garage Leroy")
    client.force_login(owner)
    first = client.get(reverse("dashboard:lines"), {"q": "leroy"}).content.decode()
    assert len(re.findall(r"<tr data-line=", first)) == 25
    assert "?q=leroy&amp;page=2" in first
    assert len(listed(client, q="leroy", page=2)) == 5


def test_timeline_on_the_line_page(client):
    owner = sales_user()
    session = confirmed_session(owner)
    line = make_line(
        session,
        remote_state="acknowledged",
        order_reference="CMD_1",
        tracking_state="in_progress",
        commitment="24",
        order_date=timezone.now() - dt.timedelta(days=5),
    )
    ProductionStep.objects.create(
        line=line, code="production_manager_assigned", date=timezone.now() - dt.timedelta(days=2)
    )
    ProductionStep.objects.create(line=line, code="mystery_step", label="Étape mystère")
    client.force_login(owner)
    body = client.get(reverse("orders:line", args=[session.pk, line.pk])).content.decode()
    assert "Production of the order" in body
    assert "Production manager assigned" in body
    assert "Étape mystère" in body
    assert "24 months" in body
    assert "Covage&#x27;s order date" in body or "Covage's order date" in body
    assert "to come" in body  # delivery not yet
    listing = client.get(reverse("dashboard:lines")).content.decode()
    assert "Production manager assigned" in listing or "Étape mystère" in listing


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("held_adv_validation", "sales administration is checking this order"),
        ("technical_error", "technical error while creating this order"),
    ],
)
def test_a_held_order_is_explained_with_what_happens_next(client, state, words):
    owner = sales_user()
    session = confirmed_session(owner)
    line = make_line(session, remote_state=state)
    client.force_login(owner)
    body = client.get(reverse("orders:line", args=[session.pk, line.pk])).content.decode()
    assert "This order is held." in body
    assert words in body
    assert "What happens next" in body
    assert words in client.get(reverse("dashboard:lines"), {"queue": "held"}).content.decode()


def test_another_users_line_is_a_404(client, lines):
    theirs = lines["theirs"]
    assert (
        client.get(reverse("orders:line", args=[theirs.session_id, theirs.pk])).status_code == 404
    )
    assert theirs.pk not in listed(client, q="leroy")


def test_chart_data():
    owner = sales_user()
    now = timezone.now()
    session = confirmed_session(owner, confirmed_at=now - dt.timedelta(days=1))
    created = make_line(session, remote_state="acknowledged")
    make_line(session, remote_state="rejected_creation")
    make_line(session, remote_state="in_progress")
    old = confirmed_session(owner, confirmed_at=now - dt.timedelta(weeks=30))
    make_line(old, remote_state="acknowledged")
    bars = selectors.confirmed_per_week(owner, now=now)
    assert len(bars) == selectors.CHART_WEEKS
    assert sum(bar.total for bar in bars) == 3
    week = next(bar for bar in bars if bar.total)
    assert week.values == {"created": 1, "rejected": 1, "pending": 1}
    chart = charts.weekly_chart(bars)
    assert not chart.empty and len(chart.rects) == 3

    LineStateChange.objects.create(
        line=created,
        state="acknowledged",
        change_date=session.confirmed_at + dt.timedelta(hours=30),
    )
    ack = selectors.lead_time_to_acknowledged(owner)
    assert ack.count == 1 and ack.median_days == 1.2
    assert [b.count for b in ack.buckets][:2] == [0, 1]

    make_line(
        session,
        tracking_state="active",
        order_date=now - dt.timedelta(days=10),
        delivered_at=now,
    )
    active = selectors.lead_time_to_active(owner)
    assert active.count == 1 and active.median_days == 10.0
    assert next(b for b in active.buckets if b.count).low_days == 7
    # Another user's data is not in these charts.
    assert selectors.lead_time_to_active(sales_user()).count == 0


def test_delivered_and_cancelled_orders_show_covages_dates(client):
    owner = sales_user()
    session = confirmed_session(owner)
    now = timezone.now()
    delivered = make_line(
        session,
        remote_state="acknowledged",
        order_reference="CMD_D",
        tracking_state="active",
        completion_date=now - dt.timedelta(days=20),
        delivered_at=now - dt.timedelta(days=1),
    )
    cancelled = make_line(
        session,
        remote_state="acknowledged",
        order_reference="CMD_C",
        tracking_state="cancelled",
        cancellation_date=now,
        cancellation_reason="Client parti",
    )
    draft = make_line(make_session(owner))
    client.force_login(owner)
    body = client.get(reverse("orders:line", args=[session.pk, delivered.pk])).content.decode()
    assert "Delivered: the service is active" in body
    assert "to come" not in body
    assert "Order created at Covage (completion date)" in body
    body = client.get(reverse("orders:line", args=[session.pk, cancelled.pk])).content.decode()
    assert "Cancelled: Client parti" in body
    assert "to come" not in body
    body = client.get(reverse("orders:line", args=[draft.session_id, draft.pk])).content.decode()
    assert "Production of the order" not in body
