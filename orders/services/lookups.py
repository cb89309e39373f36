"""Reading sessions back from Covage through the calls the documents do not describe.

`GET /api/v1/product_order/{id}/` and `GET /api/v1/product_order?external_id=…` are assumed from
the API's REST style, not documented. They make recovery faster while they answer; when Covage
says they do not exist (404, 405, 501), the portal remembers it for a while and settles from a
CSV export instead (orders.services.settle), which is the documented record.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from covage import schemas
from covage.client import CovageClient
from covage.errors import CovageError
from exports.services import ensure_export_after
from orders.models import OrderSession
from orders.services.attention import count_automatic_retry

logger = logging.getLogger(__name__)

# Answers meaning "no such endpoint here" (404 on the read of one session, 405 or 501 on the
# list): no retry will change them.
MISSING_ENDPOINT_STATUSES = frozenset({404, 405, 501})
_UNAVAILABLE_KEY = "covage:undocumented-lookups-unavailable"


class LookupUnavailable(Exception):
    """Covage does not serve the undocumented read: settle from an export instead."""


def _remember_for() -> float:
    return float(getattr(settings, "COVAGE_UNDOCUMENTED_RECHECK_SECONDS", 3600))


def lookups_known_unavailable() -> bool:
    if not settings.COVAGE_UNDOCUMENTED_LOOKUPS:
        return True
    return bool(cache.get(_UNAVAILABLE_KEY))


def _missing(exc: CovageError, what: str) -> LookupUnavailable:
    logger.info("covage has no %s (HTTP %s): settling from exports", what, exc.status)
    cache.set(_UNAVAILABLE_KEY, True, _remember_for())
    return LookupUnavailable(what)


def find_session(client: CovageClient, external_id: str) -> schemas.OrderSession | None:
    """The Covage session carrying ``external_id``, None if there is none."""
    if lookups_known_unavailable():
        raise LookupUnavailable("find by external id")
    try:
        found = client.find_sessions(external_id=external_id)
    except CovageError as exc:
        if exc.status in MISSING_ENDPOINT_STATUSES:
            raise _missing(exc, "find by external id") from None
        raise
    return found[0] if found else None


def read_session(client: CovageClient, covage_id: str) -> schemas.OrderSession:
    """The session with its lines, as Covage holds it now."""
    if lookups_known_unavailable():
        raise LookupUnavailable("read one session")
    try:
        return client.get_session(covage_id)
    except CovageError as exc:
        if exc.status in MISSING_ENDPOINT_STATUSES:
            raise _missing(exc, "read one session") from None
        raise


def in_flight_window() -> timedelta:
    return timedelta(seconds=settings.COVAGE_READ_TIMEOUT + settings.COVAGE_CONNECT_TIMEOUT)


def wait_for_export(session: OrderSession, *, after: datetime) -> None:
    """Make the session wait for an export whose snapshot is taken after ``after`` (later
    than any earlier wait), and make sure one is coming. No call to Covage here."""
    moment = after
    OrderSession.objects.filter(pk=session.pk).filter(
        Q(settle_after__isnull=True) | Q(settle_after__lt=moment)
    ).update(settle_after=moment)
    session.refresh_from_db(fields=["settle_after"])
    ensure_export_after(moment=session.settle_after or moment)


def waiting_for_export(session: OrderSession) -> bool:
    return session.settle_after is not None


def ask_again_after_failed_export() -> None:
    """An export failed: the sessions waiting for one need another (each such re-ask counts
    against the session's bound, past which it needs attention)."""
    waiting = OrderSession.objects.filter(
        settle_after__isnull=False, attention_since__isnull=True
    ).order_by("settle_after")
    latest = None
    for session in waiting:
        if count_automatic_retry(session.pk):
            latest = session.settle_after
    if latest is not None:
        ensure_export_after(moment=latest)
