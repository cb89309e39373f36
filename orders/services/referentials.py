"""Reading Covage's referentials (projects, ENNIs) into the store that the forms read.

Only the Celery task orders.tasks.refresh_referentials calls this: beat runs it every 15
minutes, and a worker queues it when it starts with a list never stored (a fresh install would
otherwise wait 15 minutes for beat's first run). Pages read orders.referentials, never Covage.

Each list is stored on its own row: when one cannot be read, the other's new copy is kept, the
failed one keeps its last good copy, and its row says when and why it failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from covage.client import CovageClient, get_client
from covage.errors import CovageError
from orders.models import ReferentialSnapshot
from orders.services.remote import in_portal_terms

logger = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 1000


def _projects(client: CovageClient) -> list[dict[str, Any]]:
    items = [
        {
            "code": project.code,
            "end_date": project.end_date.isoformat() if project.end_date else "",
        }
        for project in client.list_projects(active=True)
        if project.code
    ]
    return sorted(items, key=lambda item: item["code"])


def _ennis(client: CovageClient) -> list[dict[str, Any]]:
    items = []
    for enni in client.list_ennis(active=True):
        reference = enni.reference or enni.code
        if not reference:
            continue
        label = enni.label or " - ".join(part for part in (reference, enni.name) if part)
        items.append(
            {
                "reference": reference,
                "label": label,
                "offer": enni.offer.upper(),
                "delivery_mode": enni.delivery_mode,
            }
        )
    return sorted(items, key=lambda item: (item["label"], item["reference"]))


FETCHERS: dict[str, Callable[[CovageClient], list[dict[str, Any]]]] = {
    ReferentialSnapshot.Name.PROJECTS.value: _projects,
    ReferentialSnapshot.Name.ENNIS.value: _ennis,
}


@in_portal_terms
def refresh_referentials(*, client: CovageClient | None = None) -> dict[str, int]:
    """Read every list from Covage and store it; returns the number of items of each.

    Both lists are tried; then the first failure is raised, as RemoteUnavailable (the task
    retries it) or RemoteRefused. The row of a list that failed keeps Covage's own words, for
    the back office."""
    client = client or get_client()
    counts: dict[str, int] = {}
    failure: CovageError | None = None
    for name, fetch in FETCHERS.items():
        try:
            items = fetch(client)
        except CovageError as exc:
            logger.warning("covage referential %s could not be read: %s", name, exc)
            ReferentialSnapshot.objects.update_or_create(
                name=name,
                defaults={"checked_at": timezone.now(), "error": str(exc)[:ERROR_MAX_LENGTH]},
            )
            failure = failure or exc
            continue
        now = timezone.now()
        ReferentialSnapshot.objects.update_or_create(
            name=name,
            defaults={"items": items, "refreshed_at": now, "checked_at": now, "error": ""},
        )
        counts[name] = len(items)
    if failure is not None:
        raise failure
    logger.info("covage referentials refreshed %s", counts)
    return counts


def missing_referentials() -> list[str]:
    """The lists never stored yet (all of them on a fresh install)."""
    stored = set(
        ReferentialSnapshot.objects.filter(refreshed_at__isnull=False).values_list(
            "name", flat=True
        )
    )
    return [name for name in FETCHERS if name not in stored]
