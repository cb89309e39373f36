"""Covage's projects and ENNIs: read in the background, stored, and the only thing pages read.

The refresh talks to the sandbox over real HTTP; its partial failures use a fake client (the
service takes one, as the services' tests may). The forms never need Covage: with the lists
stored they offer them, before the first refresh they take typed values.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import sales_user

from covage.errors import CovageUnavailable
from covage.sandbox.models import SandboxCall
from covage.schemas import Enni, Project
from orders import forms, referentials, tasks
from orders.models import OrderSession, ReferentialSnapshot
from orders.schedule import REFERENTIALS_EVERY, REFERENTIALS_NAME, ensure_default_schedule
from orders.services.errors import RemoteUnavailable
from orders.services.referentials import missing_referentials, refresh_referentials

PROJECTS = ReferentialSnapshot.Name.PROJECTS
ENNIS = ReferentialSnapshot.Name.ENNIS


def snapshot(name: str) -> ReferentialSnapshot:
    return ReferentialSnapshot.objects.get(name=name)


def referential_calls() -> int:
    return SandboxCall.objects.filter(path__startswith="/api/v1/referential/").count()


class FakeClient:
    """Covage answering the projects and failing on the ENNIs (or the other way round)."""

    def __init__(self, *, projects: list[Project] | None = None, ennis: list[Enni] | None = None):
        self.projects, self.ennis = projects, ennis

    def list_projects(self, **filters: object) -> list[Project]:
        if self.projects is None:
            raise CovageUnavailable("The portal could not connect to Covage.", reason="connect")
        return self.projects

    def list_ennis(self, **filters: object) -> list[Enni]:
        if self.ennis is None:
            raise CovageUnavailable("The portal could not connect to Covage.", reason="connect")
        return self.ennis


# --- The refresh ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_refresh_stores_the_active_projects_and_ennis_of_covage(sandbox_url):
    assert missing_referentials() == [PROJECTS, ENNIS]
    counts = refresh_referentials()
    assert counts[PROJECTS] == 4 and counts[ENNIS] > 0
    assert missing_referentials() == []

    projects = referentials.projects()
    assert projects.available and projects.refreshed_at is not None
    codes = [project.code for project in projects.items]
    assert codes == sorted(codes) and "PRJ-2023-042" not in codes  # inactive
    labels = {project.code: project.label for project in projects.items}
    assert labels["PRJ-2024-017"] == "PRJ-2024-017 (until 31/05/2026)"
    assert labels["PRJ-2024-001"] == "PRJ-2024-001"

    ennis = referentials.ennis(offer_family="BPE", delivery_mode="ENNI_DEDIE")
    assert "CN012345" in {enni.reference for enni in ennis.items}
    assert {enni.offer for enni in ennis.items} == {"BPE"}
    assert snapshot(ENNIS).error == ""


@pytest.mark.django_db(transaction=True)
def test_a_failed_refresh_keeps_the_lists_stored_and_says_why(sandbox_url, settings):
    refresh_referentials()
    stored_at = snapshot(PROJECTS).refreshed_at
    settings.COVAGE_API_URL = "http://127.0.0.1:9"
    settings.COVAGE_TOKEN_URL = "http://127.0.0.1:9/token"
    settings.COVAGE_MAX_RETRIES = 0
    with pytest.raises(RemoteUnavailable):
        refresh_referentials()
    row = snapshot(PROJECTS)
    assert row.refreshed_at == stored_at and row.checked_at > stored_at
    assert "could not connect to the Covage" in row.error
    # The forms go on offering the last lists.
    assert "PRJ-2024-017" in {project.code for project in referentials.projects().items}


@pytest.mark.django_db
def test_one_list_failing_does_not_hold_back_the_other():
    client = FakeClient(projects=[Project(code="PRJ-NEW", end_date=dt.date(2030, 1, 31))])
    with pytest.raises(RemoteUnavailable):
        refresh_referentials(client=client)  # type: ignore[arg-type]
    assert [project.code for project in referentials.projects().items] == ["PRJ-NEW"]
    assert not referentials.all_ennis().available
    assert snapshot(ENNIS).refreshed_at is None and snapshot(ENNIS).error
    assert missing_referentials() == [ENNIS]

    enni = Enni(code="1", reference="CN1", name="Rouen", offer="bpe", delivery_mode="ENNI_DEDIE")
    assert refresh_referentials(client=FakeClient(projects=[], ennis=[enni])) == {  # type: ignore[arg-type]
        PROJECTS: 0,
        ENNIS: 1,
    }
    stored = referentials.all_ennis()
    assert stored.items == [referentials.EnniChoice("CN1", "CN1 - Rouen", "BPE", "ENNI_DEDIE")]
    # An empty answer is a list like any other: nothing to choose, not "not available".
    assert referentials.projects().available and referentials.projects().items == []


@pytest.mark.django_db(transaction=True)
def test_the_task_stores_the_lists_and_leaves_covage_failures_to_beat(sandbox_url, settings):
    assert tasks.refresh_referentials.apply().get() == refresh_counts()
    settings.COVAGE_API_URL = "http://127.0.0.1:9"
    settings.COVAGE_TOKEN_URL = "http://127.0.0.1:9/token"
    settings.COVAGE_MAX_RETRIES = 0
    # Run inline, a retry would loop at once: the stored lists stay, beat tries again.
    assert tasks.refresh_referentials.apply().get() == "deferred"
    assert referentials.projects().available


def refresh_counts() -> dict[str, int]:
    return {name: len(snapshot(name).items) for name in (PROJECTS, ENNIS)}


@pytest.mark.django_db(transaction=True)
def test_a_worker_starting_with_nothing_stored_refreshes_at_once(sandbox_url):
    tasks._refresh_missing_referentials()
    assert missing_referentials() == []
    calls = referential_calls()
    assert calls >= 2
    # With everything stored, a starting worker leaves the lists to beat.
    tasks._refresh_missing_referentials()
    assert referential_calls() == calls


@pytest.mark.django_db
def test_beat_refreshes_every_quarter_of_an_hour():
    from django_celery_beat.models import PeriodicTask

    ensure_default_schedule()
    task = PeriodicTask.objects.get(name=REFERENTIALS_NAME)
    assert task.task == "orders.tasks.refresh_referentials" and task.enabled
    assert task.interval.every == REFERENTIALS_EVERY == 900


# --- The forms read the store only ----------------------------------------------------------


@pytest.mark.django_db
def test_the_forms_offer_the_stored_lists_with_covage_unreachable(
    cached_referentials, offline_covage, line_factory
):
    form = forms.NewSessionForm()
    assert [value for value, _ in form.fields["project_id"].choices] == [
        "",
        "PRJ-2024-001",
        "PRJ-2025-003",
    ]
    technical = forms.step_form("technical", line=line_factory(delivery_mode="ENNI_DEDIE"))
    assert [value for value, _ in technical.fields["enni"].choices] == ["", "CN012345"]


@pytest.mark.django_db
def test_before_the_first_refresh_every_list_is_typed(no_referentials, line_factory):
    line = line_factory(offer_family="BPE", enni="", delivery_mode="")
    offer = forms.step_form("offer", line=line)
    technical = forms.step_form("technical", line=line)
    for form, name, message in (
        (forms.NewSessionForm(), "project_id", referentials.PROJECTS_UNAVAILABLE),
        (offer, "project_id", referentials.PROJECTS_UNAVAILABLE),
        (technical, "delivery_mode", referentials.DELIVERY_MODES_UNAVAILABLE),
        (technical, "enni", referentials.ENNIS_UNAVAILABLE),
        (technical, "enni_2", referentials.ENNIS_UNAVAILABLE),
    ):
        field = form.fields[name]
        assert not hasattr(field, "choices"), name
        assert str(field.help_text).startswith(str(message)), name
    # No "no ENNI for this offer family" notice: the list is not empty, it is not there yet.
    assert technical.notices == []

    # Typed values get the checks of the column that keeps them, and are saved.
    typed = forms.step_form(
        "technical",
        line=line,
        data={"version": line.version, "delivery_mode": " ENNI_DEDIE ", "enni": "CN999999"},
    )
    assert typed.is_valid(), typed.errors
    assert typed.step_data()["enni"] == "CN999999"
    assert typed.step_data()["delivery_mode"] == "ENNI_DEDIE"
    too_long = forms.step_form(
        "technical", line=line, data={"version": line.version, "enni": "C" * 65}
    )
    assert "enni" in too_long.errors
    assert too_long.step_data()["enni"] == ""  # not saved, as any wrong format


@pytest.mark.django_db
def test_a_value_typed_before_the_list_arrived_is_kept_on_the_page(line_factory):
    """The page was opened before the first refresh, the list was stored before the save: the
    typed ENNI that the list does not hold is refused, shown with why, and still there."""
    line = line_factory(offer_family="BPE", enni="", delivery_mode="ENNI_DEDIE")
    listed = {"reference": "CN012345", "label": "CN012345", "offer": "BPE"}
    ReferentialSnapshot.objects.create(
        name=ENNIS, refreshed_at=timezone.now(), items=[{**listed, "delivery_mode": "ENNI_DEDIE"}]
    )
    form = forms.step_form(
        "technical",
        line=line,
        data={"version": line.version, "delivery_mode": "ENNI_DEDIE", "enni": "CN-TYPED"},
    )
    assert not form.is_valid()
    assert form.errors["enni"] == [
        "CN-TYPED is not in Covage's list: choose one of the list, or leave it empty."
    ]
    assert ("CN-TYPED", "CN-TYPED (not in Covage's list)") in form.fields["enni"].choices
    assert 'value="CN-TYPED" selected' in str(form["enni"])
    # The saved value stays valid even when the list no longer holds it.
    line.enni = "CN-OLD"
    kept = forms.step_form(
        "technical",
        line=line,
        data={"version": line.version, "delivery_mode": "ENNI_DEDIE", "enni": "CN-OLD"},
    )
    assert kept.is_valid(), kept.errors


@pytest.mark.django_db
def test_new_session_page_before_the_first_refresh(client, no_referentials, offline_covage):
    client.force_login(sales_user())
    page = client.get(reverse("orders:new")).content.decode()
    assert '<input type="text" name="project_id" maxlength="64"' in page
    assert "list of projects is not available yet: type the project code." in page
    client.post(reverse("orders:new"), {"external_id": "TYPED-1", "project_id": " PRJ-X "})
    assert OrderSession.objects.get(external_id="TYPED-1").project_id == "PRJ-X"
