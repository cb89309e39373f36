"""Demo reference data: the customer's projects and ENNIs (collection ports)."""

from __future__ import annotations

from typing import Any

from covage.sandbox.http import ApiError

PROJECTS: list[dict[str, Any]] = [
    {
        "code": "PRJ-2024-001",
        "active": True,
        "start_date": "2024-01-15",
        "end_date": None,
        "code_client": "CLI-00412",
    },
    {
        "code": "PRJ-2024-017",
        "active": True,
        "start_date": "2024-06-01",
        "end_date": "2026-05-31",
        "code_client": "CLI-00412",
    },
    {
        "code": "PRJ-2025-003",
        "active": True,
        "start_date": "2025-02-10",
        "end_date": None,
        "code_client": "CLI-00587",
    },
    {
        "code": "PRJ-2025-009",
        "active": True,
        "start_date": "2025-04-01",
        "end_date": "2027-03-31",
        "code_client": "CLI-00587",
    },
    {
        "code": "PRJ-2023-042",
        "active": False,
        "start_date": "2023-03-01",
        "end_date": "2024-12-31",
        "code_client": "CLI-00412",
    },
]


def _enni(
    code: int,
    reference: str,
    name: str,
    short_name: str,
    offer: str,
    dsp: str,
    delivery_mode: str,
    active: bool = True,
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "short_name": short_name,
        "reference": reference,
        "label": f"{reference} - {name} ({offer})",
        "offer": offer,
        "dsp": dsp,
        "delivery_mode": delivery_mode,
        "active": active,
    }


ENNIS: list[dict[str, Any]] = [
    _enni(
        101,
        "CN012345",
        "Rouen Saint-Étienne-du-Rouvray",
        "ROU-SER",
        "BPE",
        "Seine-Maritime Numérique",
        "ENNI_DEDIE",
    ),
    _enni(
        102,
        "CN012346",
        "Rouen Saint-Étienne-du-Rouvray",
        "ROU-SER",
        "BPEA",
        "Seine-Maritime Numérique",
        "ENNI_DEDIE",
    ),
    _enni(
        103,
        "CN012410",
        "Le Havre Océane",
        "LEH-OCE",
        "BPE",
        "Seine-Maritime Numérique",
        "ENNI_MUTUALISE",
    ),
    _enni(
        104,
        "CN020118",
        "Évreux Nétreville",
        "EVX-NET",
        "BPE",
        "Eure Normandie Numérique",
        "ENNI_DEDIE",
    ),
    _enni(
        105,
        "CN020119",
        "Évreux Nétreville",
        "EVX-NET",
        "BPEA",
        "Eure Normandie Numérique",
        "ENNI_MUTUALISE",
    ),
    _enni(
        106,
        "CN031207",
        "Montpellier Pérols",
        "MTP-PER",
        "BPE",
        "Hérault Très Haut Débit",
        "COLLECTE_REGIONALE",
    ),
    _enni(
        107,
        "CN031208",
        "Béziers Méditerranée",
        "BEZ-MED",
        "BPEA",
        "Hérault Très Haut Débit",
        "COLLECTE_REGIONALE",
    ),
    _enni(
        108,
        "CN044530",
        "Saint-Brieuc Plérin",
        "SBK-PLE",
        "BPE",
        "Côtes-d'Armor Fibre",
        "ENNI_DEDIE",
    ),
    _enni(
        109,
        "CN044531",
        "Lannion Pégase",
        "LAN-PEG",
        "BPEA",
        "Côtes-d'Armor Fibre",
        "ENNI_DEDIE",
        active=False,
    ),
    _enni(
        110,
        "CN057702",
        "Évry-Courcouronnes",
        "EVR-COU",
        "BPE",
        "Essonne Numérique",
        "ENNI_MUTUALISE",
    ),
    _enni(
        111, "CN057703", "Évry-Courcouronnes", "EVR-COU", "BPEA", "Essonne Numérique", "ENNI_DEDIE"
    ),
    _enni(
        112,
        "CN063390",
        "Annecy Épagny",
        "ANN-EPA",
        "BPE",
        "Haute-Savoie Très Haut Débit",
        "COLLECTE_REGIONALE",
        active=False,
    ),
]

PROJECT_FILTERS = ("code", "active")
ENNI_FILTERS = ("reference", "name", "short_name", "active", "offer", "dsp", "delivery_mode")


def _as_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"true", "1", "yes"}:
        return True
    if lowered in {"false", "0", "no"}:
        return False
    raise ApiError({"active": ["Must be a valid boolean."]}, 400)


def filter_items(
    items: list[dict[str, Any]], query: dict[str, str], names: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Exact match on every filter given; an empty filter value is ignored."""
    result = items
    for name in names:
        raw = query.get(name, "")
        if raw == "":
            continue
        if name == "active":
            wanted = _as_bool(raw)
            result = [item for item in result if item["active"] is wanted]
        else:
            result = [item for item in result if str(item[name]) == raw]
    return result
