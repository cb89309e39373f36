"""Read the sandbox knobs at request time, so that tests can override them per test."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "ACCOUNTS": "demo:demo",
    "TOKEN_TTL": 300,
    "REFRESH_TTL": 1800,
    "LATENCY_MS": 0,
    "ERROR_RATE": 0.0,
    "TIMEOUT_RATE": 0.0,
    "TIMEOUT_SECONDS": 35.0,
    "RATE_LIMIT_RATE": 0.0,
    "RATE_LIMIT_RETRY_AFTER": 1,
    "CONFIRM_DELAY": 5.0,
    "EXPORT_DELAY": 5.0,
    "EXPORT_WINDOW": 300,
    "EXPORT_FAILURE_RATE": 0.0,
    "TRACKING_STEP_SECONDS": 30.0,
    "SEED": "",
    "SPELLING": "examples",
    "EXPORT_MIN_BYTES": 0,
    # Seconds the address search (covage.sandbox.addresses) waits before answering.
    "ADDRESS_DELAY": 0.0,
    # "off" (or "false", "0", "no"): the reads the documents do not describe (listing/finding
    # sessions, reading one back) answer as if they did not exist (405/404).
    "UNDOCUMENTED": "on",
}

OFF_VALUES = frozenset({"off", "false", "0", "no"})


def knob(name: str) -> Any:
    values = getattr(settings, "COVAGE_SANDBOX", {}) or {}
    return values.get(name, DEFAULTS[name])


def knob_float(name: str) -> float:
    return float(knob(name) or 0)


def accounts() -> dict[str, str]:
    """`user:password,user2:pw2` -> {user: password}; a password may itself contain ':'."""
    result: dict[str, str] = {}
    for entry in str(knob("ACCOUNTS") or "").split(","):
        username, sep, password = entry.strip().partition(":")
        if username and sep:
            result[username] = password
    return result


def table_spelling() -> bool:
    return str(knob("SPELLING")).strip().lower() == "tables"


def undocumented_served() -> bool:
    """Whether the endpoints the documents do not describe answer (knob UNDOCUMENTED)."""
    return str(knob("UNDOCUMENTED")).strip().lower() not in OFF_VALUES
