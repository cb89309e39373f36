"""Reference data: projects and ENNIs with their filters."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.urls("covage.sandbox.urls"), pytest.mark.django_db]


def test_projects(api) -> None:
    response = api.get("/api/v1/referential/project")
    assert response.status_code == 200
    projects = response.json()
    assert len(projects) >= 5
    for project in projects:
        assert set(project) == {"code", "active", "start_date", "end_date", "code_client"}
    assert any(not project["active"] for project in projects)
    assert api.get("/api/v1/referential/project/").json() == projects


def test_project_filters(api) -> None:
    inactive = api.get("/api/v1/referential/project", active="false").json()
    assert inactive and all(project["active"] is False for project in inactive)
    active = api.get("/api/v1/referential/project", active="true").json()
    assert active and all(project["active"] is True for project in active)
    assert len(active) + len(inactive) == len(api.get("/api/v1/referential/project").json())
    (one,) = api.get("/api/v1/referential/project", code="PRJ-2024-017").json()
    assert one["code"] == "PRJ-2024-017"
    assert api.get("/api/v1/referential/project", code="PRJ-2024").json() == []
    bad = api.get("/api/v1/referential/project", active="maybe")
    assert bad.status_code == 400
    assert bad.json() == {"active": ["Must be a valid boolean."]}


def test_ennis(api) -> None:
    ennis = api.get("/api/v1/referential/enni/").json()
    assert 10 <= len(ennis) <= 12
    for enni in ennis:
        assert set(enni) == {
            "code",
            "name",
            "short_name",
            "reference",
            "label",
            "offer",
            "dsp",
            "delivery_mode",
            "active",
        }
        assert re.match(r"^CN\d{6}$", enni["reference"])
        assert enni["offer"] in {"BPE", "BPEA"}
    assert len({enni["delivery_mode"] for enni in ennis}) >= 2
    assert any("É" in enni["name"] or "é" in enni["dsp"] for enni in ennis)
    assert len({enni["reference"] for enni in ennis}) == len(ennis)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("offer", "BPEA"),
        ("offer", "BPE"),
        ("dsp", "Hérault Très Haut Débit"),
        ("delivery_mode", "ENNI_DEDIE"),
        ("reference", "CN020118"),
        ("short_name", "EVX-NET"),
        ("name", "Évry-Courcouronnes"),
    ],
)
def test_enni_exact_filters(api, name: str, value: str) -> None:
    everything = api.get("/api/v1/referential/enni").json()
    expected = [enni for enni in everything if enni[name] == value]
    assert expected
    assert api.get("/api/v1/referential/enni", **{name: value}).json() == expected


def test_enni_combined_filters(api) -> None:
    result = api.get("/api/v1/referential/enni/", offer="BPE", active="false").json()
    assert result and all(e["offer"] == "BPE" and e["active"] is False for e in result)
    assert api.get("/api/v1/referential/enni/", offer="bpe").json() == []


def test_about_says_it_is_the_sandbox_without_accounts(client, settings):
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "LATENCY_MS": 7}
    body = client.get("/sandbox/about/").json()
    assert body["sandbox"] is True
    assert body["knobs"]["LATENCY_MS"] == 7
    assert "ACCOUNTS" not in body["knobs"]
