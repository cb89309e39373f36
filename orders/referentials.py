"""Covage's referentials the forms offer as choices: projects and ENNIs (collection ports).

A salesperson must never wait on Covage while typing, so each list is read once every
REFERENTIAL_TTL seconds with a short timeout and no retries, and kept in Django's cache. When
Covage cannot answer, the last list read is used (it is kept much longer under a second key);
with no list at all the result says so (`available=False`) and the form falls back to a
free-text input with a notice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from covage.client import CovageClient
from covage.errors import CovageError

logger = logging.getLogger(__name__)

REFERENTIAL_TTL = 15 * 60
# How long the last good answer is kept to fall back on while Covage is unreachable.
FALLBACK_TTL = 7 * 24 * 3600
# After a failure, do not ask Covage again for this long: every page would wait otherwise.
FAILURE_BACKOFF = 60
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 4.0

OFFER_FAMILIES_WITH_ENNIS = ("BPE", "BPEA")

PROJECTS_UNAVAILABLE = "Covage's list of projects could not be loaded; type the code."
ENNIS_UNAVAILABLE = "Covage's list of ENNIs could not be loaded; type the reference."


@dataclass(frozen=True)
class ProjectChoice:
    code: str
    label: str


@dataclass(frozen=True)
class EnniChoice:
    reference: str
    label: str
    offer: str
    delivery_mode: str


@dataclass(frozen=True)
class Referential:
    """A list read from Covage. `available` is False when there is no list to offer, so that
    the form shows a free-text input; `stale` when Covage failed and an older list is shown."""

    items: list[Any] = field(default_factory=list)
    available: bool = True
    stale: bool = False


def _client() -> CovageClient:
    # A short-lived client of its own: the shared one waits and retries as a background
    # task should, which a page being rendered must not. The token is shared through the cache.
    return CovageClient.from_settings(
        connect_timeout=getattr(settings, "ORDERS_REFERENTIAL_CONNECT_TIMEOUT", CONNECT_TIMEOUT),
        read_timeout=getattr(settings, "ORDERS_REFERENTIAL_READ_TIMEOUT", READ_TIMEOUT),
        max_retries=0,
        max_retry_after=0.0,
    )


def _cached(name: str, fetch: Callable[[CovageClient], list[Any]]) -> Referential:
    key = f"orders:referential:{name}"
    fallback_key = f"{key}:last"
    failed_key = f"{key}:failed"
    items = cache.get(key)
    if items is not None:
        return Referential(items)
    if not cache.get(failed_key):
        try:
            with _client() as client:
                items = fetch(client)
        except CovageError as exc:
            logger.warning("covage referential %s could not be loaded: %s", name, exc)
            cache.set(failed_key, True, FAILURE_BACKOFF)
        else:
            cache.set(key, items, REFERENTIAL_TTL)
            cache.set(fallback_key, items, FALLBACK_TTL)
            return Referential(items)
    last = cache.get(fallback_key)
    if last:
        return Referential(last, stale=True)
    return Referential([], available=False)


def _fetch_projects(client: CovageClient) -> list[ProjectChoice]:
    choices = []
    for project in client.list_projects(active=True):
        if not project.code:
            continue
        label = project.code
        if project.end_date:
            label += f" (until {project.end_date:%d/%m/%Y})"
        choices.append(ProjectChoice(project.code, label))
    return sorted(choices, key=lambda choice: choice.code)


def _fetch_ennis(client: CovageClient) -> list[EnniChoice]:
    choices = []
    for enni in client.list_ennis(active=True):
        reference = enni.reference or enni.code
        if not reference:
            continue
        label = enni.label or " - ".join(part for part in (reference, enni.name) if part)
        choices.append(EnniChoice(reference, label, enni.offer.upper(), enni.delivery_mode))
    return sorted(choices, key=lambda choice: choice.label)


def projects() -> Referential:
    """The customer's active projects."""
    return _cached("projects", _fetch_projects)


def all_ennis() -> Referential:
    """Every active ENNI of the customer, one cached list filtered locally."""
    return _cached("ennis", _fetch_ennis)


def ennis(*, offer_family: str = "", delivery_mode: str = "") -> Referential:
    """The ENNIs a line may use: those of its offer family (BPE or BPEA; any other family,
    or none yet, is not filtered) and of the chosen delivery mode (none chosen: all)."""
    referential = all_ennis()
    items = referential.items
    family = offer_family.strip().upper()
    if family in OFFER_FAMILIES_WITH_ENNIS:
        items = [enni for enni in items if enni.offer == family]
    if delivery_mode:
        items = [enni for enni in items if enni.delivery_mode == delivery_mode]
    return Referential(items, available=referential.available, stale=referential.stale)


def delivery_modes(*, offer_family: str = "") -> Referential:
    """The distinct delivery modes of the ENNIs (of the offer family, when it has ENNIs)."""
    referential = ennis(offer_family=offer_family)
    modes = sorted({enni.delivery_mode for enni in referential.items if enni.delivery_mode})
    return Referential(modes, available=referential.available, stale=referential.stale)


def forget() -> None:
    """Drop the cached lists (tests, or after Covage changed them)."""
    for name in ("projects", "ennis"):
        key = f"orders:referential:{name}"
        cache.delete_many([key, f"{key}:last", f"{key}:failed"])
