"""Read queries of the reconciliation page and admin, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Count, QuerySet

from orders.models import OrderLine, OrderSession
from reconciliation.models import Comparison, Difference


def differences(*, status: str = "", kind: str = "", pk: int | None = None) -> QuerySet[Difference]:
    """Differences, newest first; ``status`` and ``kind`` filter when given."""
    found = Difference.objects.select_related(
        "session", "line", "line__session", "resolved_by", "export_job"
    )
    if pk is not None:
        return found.filter(pk=pk)
    if status:
        found = found.filter(status=status)
    if kind:
        found = found.filter(kind=kind)
    return found


def open_counts() -> dict[str, int]:
    """Open differences per kind (the page's filter badges)."""
    rows = (
        Difference.objects.filter(status=Difference.Status.OPEN)
        .values("kind")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["kind"]: row["count"] for row in rows}


def latest_comparisons(*, limit: int = 3) -> list[Comparison]:
    return list(Comparison.objects.select_related("export_job").order_by("-started_at")[:limit])


def link_candidates(difference: Difference) -> QuerySet[OrderSession] | QuerySet[OrderLine]:
    """The portal objects a Covage object unknown to the portal may be: no Covage id yet,
    the same external id; a line must belong to the session linked to the Covage line's."""
    if difference.covage_line_id:
        return OrderLine.objects.select_related("session").filter(
            covage_id="",
            deleted_at__isnull=True,
            session__covage_id=difference.covage_session_id,
            external_id=difference.external_id,
        )
    return OrderSession.objects.filter(covage_id="", external_id=difference.external_id)


def attach_link_candidates(page: Sequence[Difference]) -> None:
    """Set ``candidates`` on every open "unknown to the portal" difference of ``page``, with
    two queries for the whole page."""
    wanted = [
        difference
        for difference in page
        if difference.is_open and difference.kind == Difference.Kind.UNKNOWN_AT_PORTAL
    ]
    for difference in page:
        difference.candidates = []  # type: ignore[attr-defined]
    if not wanted:
        return
    session_ids = {d.external_id for d in wanted if not d.covage_line_id}
    sessions: dict[str, list[OrderSession]] = defaultdict(list)
    if session_ids:
        for session in OrderSession.objects.filter(covage_id="", external_id__in=session_ids):
            sessions[session.external_id].append(session)
    line_keys = {(d.covage_session_id, d.external_id) for d in wanted if d.covage_line_id}
    lines: dict[tuple[str, str], list[OrderLine]] = defaultdict(list)
    if line_keys:
        for line in OrderLine.objects.select_related("session").filter(
            covage_id="",
            deleted_at__isnull=True,
            session__covage_id__in={key[0] for key in line_keys},
            external_id__in={key[1] for key in line_keys},
        ):
            lines[(line.session.covage_id, line.external_id)].append(line)
    for difference in wanted:
        if difference.covage_line_id:
            key = (difference.covage_session_id, difference.external_id)
            difference.candidates = lines.get(key, [])  # type: ignore[attr-defined]
        else:
            difference.candidates = sessions.get(difference.external_id, [])  # type: ignore[attr-defined]
