"""Differences in the admin: listed with filters for the back office, read-only, dismissed
through an action that asks for the reason (and writes through the services)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from exports.models import ExportJob
from reconciliation.models import Comparison, Difference

pytestmark = pytest.mark.django_db

Kind = Difference.Kind
Status = Difference.Status
CHANGELIST = "admin:reconciliation_difference_changelist"


def difference(number: int, **values: Any) -> Difference:
    defaults = {
        "kind": Kind.UNKNOWN_AT_PORTAL,
        "key": f"unknown_at_portal:session:cov-{number}",
        "covage_session_id": f"cov-{number}",
        "external_id": f"OTHER-{number}",
        "covage_value": "created · PRJ-2024-001",
    }
    return Difference.objects.create(**{**defaults, **values})


def test_the_back_office_lists_differences_with_filters(client, back_office):
    unknown = difference(1)
    value = difference(
        2,
        kind=Kind.VALUE,
        key="value:line:cov-line-2:note",
        field="note",
        portal_value="Sonner",
        covage_value="Frapper",
    )
    client.force_login(back_office)

    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "OTHER-1" in page and "Frapper" in page and "Sonner" in page
    assert f"/reconciliation/?difference={unknown.pk}" in page

    filtered = client.get(reverse(CHANGELIST), {"kind__exact": "value", "status__exact": "open"})
    assert filtered.status_code == 200
    assert "Frapper" in filtered.content.decode()
    assert "OTHER-1" not in filtered.content.decode()
    assert value.pk


def test_differences_are_read_only_records(client, back_office):
    entry = difference(1)
    client.force_login(back_office)
    change = reverse("admin:reconciliation_difference_change", args=[entry.pk])

    page = client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change, {"status": "dismissed"}).status_code == 403
    assert client.get(reverse("admin:reconciliation_difference_add")).status_code == 403
    delete = reverse("admin:reconciliation_difference_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.status == Status.OPEN


def test_dismiss_action_asks_for_the_reason_then_dismisses(client, back_office):
    first, second = difference(1), difference(2)
    done = difference(3, status=Status.RESOLVED, resolution="Linked")
    client.force_login(back_office)
    selected = {"action": "dismiss_selected", "_selected_action": [first.pk, second.pk, done.pk]}

    asked = client.post(reverse(CHANGELIST), selected)
    assert asked.status_code == 200
    assert "Reason" in asked.content.decode() and "OTHER-1" in asked.content.decode()

    missing = client.post(reverse(CHANGELIST), {**selected, "apply": "1", "reason": " "})
    assert missing.status_code == 200
    assert "Give the reason for dismissing these differences." in missing.content.decode()
    first.refresh_from_db()
    assert first.status == Status.OPEN

    response = client.post(
        reverse(CHANGELIST), {**selected, "apply": "1", "reason": "Test sessions"}, follow=True
    )

    assert response.status_code == 200
    assert "2 differences dismissed." in response.content.decode()
    for entry in (first, second):
        entry.refresh_from_db()
        assert entry.status == Status.DISMISSED
        assert entry.resolution == "Test sessions" and entry.resolved_by == back_office
    done.refresh_from_db()
    assert done.status == Status.RESOLVED and done.resolution == "Linked"


def test_comparisons_are_listed(client, back_office):
    job = ExportJob.objects.create(covage_account="demo", status=ExportJob.Status.SUCCEEDED)
    Comparison.objects.create(export_job=job, status=Comparison.Status.DONE, summary={"rows": 3})
    client.force_login(back_office)
    response = client.get(reverse("admin:reconciliation_comparison_changelist"))
    assert response.status_code == 200
    assert f"Export #{job.pk}" in response.content.decode()


def test_sales_users_do_not_reach_the_admin(client, sales):
    difference(1)
    client.force_login(sales)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_reads_in_the_users_language(client, back_office, french):
    french["concerns"] = "concerne"
    french["Covage state"] = "État chez Covage"
    french["Applied: Covage is the source of truth for states."] = (
        "Appliqué\u00a0: Covage fait foi pour les états."
    )
    state = difference(
        1,
        kind=Kind.STATE,
        key="state:line:cov-line-1:1:completed",
        status=Status.APPLIED,
        field="state",
        resolution="Applied: Covage is the source of truth for states.",
        resolution_code="applied_state",
    )
    client.force_login(back_office)

    listed = client.get(reverse(CHANGELIST), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Concerne" in listed and "État chez Covage" in listed
    change = reverse("admin:reconciliation_difference_change", args=[state.pk])
    shown = client.get(change, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Appliqué\u00a0: Covage fait foi pour les états." in shown
