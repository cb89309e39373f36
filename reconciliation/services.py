"""Comparing Covage's CSV export with the portal's records, and resolving what differs.

``reconcile_export`` runs for every stored export (scheduled, requested, or the portal's own;
reconciliation.apps queues it when ``exports.signals.export_stored`` is sent):
1. ``orders.services.settle.settle_from_export`` applies Covage's states (Covage is the source
   of truth for them) and settles the sessions waiting on an export, linking what it finds;
   each state it changed is recorded as a difference of kind ``state``, status ``applied``.
2. The file is read again and compared with the portal's records (reconciliation.comparison
   says what counts as a difference): unknown to the portal, missing at Covage, a different
   value in an exported column.
3. Open differences that this export no longer shows, and that no newer export found, are
   ``gone``.
An export older than one already compared is settled from (settle itself never lets an older
snapshot turn states back) but not compared: what it shows differently is stale. Comparing the
same export twice records nothing twice: a difference found again updates its open entry.

Every other difference waits for the back office: ``resolve_push_again`` (a value: send the
line again; missing at Covage: create it again), ``resolve_link`` (unknown to the portal: it
is this portal session or line), ``dismiss`` (with a reason).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from covage.export_csv import ExportFormatError
from covage.export_csv import read_export as read_export_file
from exports.models import ExportJob
from orders.models import OrderLine, OrderSession
from orders.services.errors import OrderError
from orders.services.resync import (
    link_line,
    link_session,
    push_line_again,
    recreate_line,
    recreate_session,
)
from orders.services.settle import settle_from_export
from reconciliation import texts
from reconciliation.comparison import (
    BATCH_ROWS,
    OFFER_COLUMNS,
    Comparer,
    Recorder,
    Summary,
    batches,
    mark_gone,
    max_new_per_kind,
    record_applied_states,
)
from reconciliation.models import Comparison, Difference

logger = logging.getLogger(__name__)

Kind = Difference.Kind
Status = Difference.Status

__all__ = [
    "ResolutionError",
    "Summary",
    "can_push_again",
    "dismiss",
    "export_started_at",
    "max_new_per_kind",
    "reconcile_export",
    "resolve_link",
    "resolve_push_again",
]


class ResolutionError(Exception):
    """A resolution that cannot be done; str() is the message for the back office."""


def export_started_at(job: ExportJob) -> datetime:
    """When Covage took the export's snapshot, as near as the portal knows: Covage's own
    "started", else when the portal asked for it."""
    return job.started_at or job.start_claimed_at or job.requested_at


@contextlib.contextmanager
def _export_path(job: ExportJob) -> Iterator[str]:
    """A path to the job's file: the storage's own, or a temporary copy of it."""
    if not job.file:
        raise FileNotFoundError(job.pk)
    storage = job.file.storage
    try:
        path = storage.path(job.file.name)
    except NotImplementedError:
        path = None
    if path is not None:
        if not os.path.exists(path):
            raise FileNotFoundError(path)
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=".csv") as copy:
        with job.file.open("rb") as source:
            shutil.copyfileobj(source, copy, length=1024 * 1024)
        copy.flush()
        yield copy.name


def _comparison_for(job: ExportJob, started: datetime) -> Comparison:
    comparison, _created = Comparison.objects.get_or_create(
        export_job=job, defaults={"export_started_at": started}
    )
    Comparison.objects.filter(pk=comparison.pk).update(
        status=Comparison.Status.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        export_started_at=started,
        runs=F("runs") + 1,
        error="",
    )
    return comparison


def _superseded(comparison: Comparison, started: datetime) -> bool:
    """A newer export has been compared already: what this older snapshot shows differently
    is stale (the newer one said what differs)."""
    return (
        Comparison.objects.filter(status=Comparison.Status.DONE, export_started_at__gt=started)
        .exclude(pk=comparison.pk)
        .exists()
    )


def _finish(comparison: Comparison, summary: Summary) -> None:
    Comparison.objects.filter(pk=comparison.pk).update(
        status=summary.status,
        finished_at=timezone.now(),
        summary=summary.as_dict(),
        error=summary.error,
    )


def reconcile_export(*, job_id: int) -> Summary:
    """Settle from the export, then compare it with the portal's records (see the module's
    docstring). Safe to run again for the same export."""
    summary = Summary(job_id=job_id, cap=max_new_per_kind())
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != ExportJob.Status.SUCCEEDED or not job.file:
        summary.fail("skipped", texts.NO_FILE)
        return summary
    started = export_started_at(job)
    comparison = _comparison_for(job, started)
    try:
        with _export_path(job) as path:
            applied = settle_from_export(rows=read_export_file(path), export_started_at=started)
            record_applied_states(applied, job=job, summary=summary, export_started_at=started)
            if _superseded(comparison, started):
                summary.status = Comparison.Status.SUPERSEDED
            else:
                recorder = Recorder(job=job, export_started_at=started, summary=summary)
                comparer = Comparer(export_started_at=started, summary=summary)
                for rows in batches(read_export_file(path), BATCH_ROWS):
                    recorder.add(comparer.batch(rows))
                for found in comparer.missing():
                    recorder.add(found)
                summary.gone = mark_gone(job=job, export_started_at=started)
    except FileNotFoundError:
        summary.fail(Comparison.Status.FAILED, texts.FILE_GONE)
    except ExportFormatError as exc:
        summary.fail(Comparison.Status.FAILED, texts.UNREADABLE, reason=str(exc))
    except Exception:
        summary.fail(Comparison.Status.FAILED, texts.UNEXPECTED)
        _finish(comparison, summary)
        raise
    _finish(comparison, summary)
    logger.info(
        "export job=%s compared: rows=%d found=%s new=%s gone=%d status=%s",
        job.pk,
        summary.rows,
        summary.found,
        summary.new,
        summary.gone,
        summary.status,
    )
    return summary


# --- Resolutions ------------------------------------------------------------------------------


def _open_difference(difference: Difference) -> Difference:
    locked = Difference.objects.select_for_update().filter(pk=difference.pk).first()
    if locked is None:
        raise ResolutionError(_("This difference no longer exists."))
    if locked.status != Status.OPEN:
        raise ResolutionError(
            _("This difference is no longer open: %(status)s.")
            % {"status": locked.get_status_display()}
        )
    return locked


def _close(
    difference: Difference,
    *,
    user: AbstractBaseUser,
    status: str,
    reason: str = "",
    code: str = "",
    params: dict[str, Any] | None = None,
) -> Difference:
    """Close with a person's ``reason``, or with what the portal did (``code`` of
    reconciliation.texts.RESOLUTIONS and its ``params``, shown in the reader's language)."""
    difference.status = status
    difference.resolution_code = code
    difference.resolution_params = params or {}
    difference.resolution = texts.english(texts.RESOLUTIONS, code, params) if code else reason
    difference.resolved_by = user
    difference.resolved_at = timezone.now()
    difference.save(
        update_fields=[
            "status",
            "resolution",
            "resolution_code",
            "resolution_params",
            "resolved_by",
            "resolved_at",
            "session",
            "line",
        ]
    )
    return difference


def can_push_again(difference: Difference) -> bool:
    """Whether "push again" applies to this difference at all (the page offers it then)."""
    if difference.kind == Kind.MISSING_AT_COVAGE:
        return True
    return (
        difference.kind == Kind.VALUE
        and difference.line_id is not None
        and difference.field not in OFFER_COLUMNS
    )


@transaction.atomic
def resolve_push_again(*, user: AbstractBaseUser, difference: Difference) -> Difference:
    """A value: send the line's values to Covage again (every open value difference of that
    line is resolved with it). Missing at Covage: create the line, or the session with its
    lines, again."""
    locked = _open_difference(difference)
    if locked.kind == Kind.VALUE and locked.field in OFFER_COLUMNS:
        raise ResolutionError(
            _(
                "Covage cannot change the offer of a line it has: sending it again would not "
                "change it. Replace the line from its page, or dismiss the difference."
            )
        )
    if not can_push_again(locked):
        if locked.kind == Kind.VALUE:
            raise ResolutionError(
                _("Covage offers no way to change a session once created: dismiss it instead.")
            )
        raise ResolutionError(
            _("Only a different value, or something missing at Covage, can be sent again.")
        )
    try:
        if locked.kind == Kind.VALUE:
            line = _line_of(locked)
            push_line_again(user=user, line=line)
            code = texts.PUSHED_AGAIN
            others = (
                Difference.objects.select_for_update()
                .filter(kind=Kind.VALUE, status=Status.OPEN, line_id=line.pk)
                .exclude(pk=locked.pk)
                .exclude(field__in=OFFER_COLUMNS)
            )
            for other in others:
                _close(other, user=user, status=Status.RESOLVED, code=code)
        elif locked.line_id is not None or locked.covage_line_id:
            recreate_line(user=user, line=_line_of(locked))
            code = texts.CREATED_AGAIN
        else:
            session = OrderSession.objects.filter(pk=locked.session_id).first()
            if session is None:
                raise ResolutionError(_("This session no longer exists in the portal."))
            recreate_session(user=user, session=session)
            code = texts.CREATED_AGAIN_WITH_LINES
    except OrderError as exc:
        raise ResolutionError(str(exc)) from exc
    return _close(locked, user=user, status=Status.RESOLVED, code=code)


def _line_of(difference: Difference) -> OrderLine:
    line = OrderLine.objects.filter(pk=difference.line_id).first()
    if line is None or line.deleted_at is not None:
        raise ResolutionError(_("This line no longer exists in the portal."))
    return line


def _neutral(target: OrderSession | OrderLine) -> str:
    """How the stored English text names a session or line (the page names it anew, in the
    reader's language)."""
    with translation.override(None):
        return str(target)


@transaction.atomic
def resolve_link(
    *, user: AbstractBaseUser, difference: Difference, target: OrderSession | OrderLine
) -> Difference:
    """Something at Covage unknown to the portal is a portal session or line that lost (or
    never got) its Covage id: link them."""
    locked = _open_difference(difference)
    if locked.kind != Kind.UNKNOWN_AT_PORTAL:
        raise ResolutionError(_("Only something unknown to the portal can be linked."))
    try:
        if locked.covage_line_id:
            if not isinstance(target, OrderLine):
                raise ResolutionError(_("Choose a portal line to link this Covage line to."))
            if target.session.covage_id != locked.covage_session_id:
                raise ResolutionError(
                    _("This line belongs to another session than the Covage line's.")
                )
            linked = link_line(user=user, line=target, covage_id=locked.covage_line_id)
            locked.line = linked
            locked.session = linked.session
            code, params = texts.LINKED_LINE, {"line": _neutral(linked)}
        else:
            if not isinstance(target, OrderSession):
                raise ResolutionError(_("Choose a portal session to link this Covage session to."))
            session = link_session(user=user, session=target, covage_id=locked.covage_session_id)
            locked.session = session
            code, params = texts.LINKED_SESSION, {"session": _neutral(session)}
    except OrderError as exc:
        raise ResolutionError(str(exc)) from exc
    return _close(locked, user=user, status=Status.RESOLVED, code=code, params=params)


@transaction.atomic
def dismiss(*, user: AbstractBaseUser, difference: Difference, reason: str) -> Difference:
    """Leave it as it is, saying why (the reason is required, and kept)."""
    reason = (reason or "").strip()
    if not reason:
        raise ResolutionError(_("Give the reason for dismissing this difference."))
    locked = _open_difference(difference)
    return _close(locked, user=user, status=Status.DISMISSED, reason=reason)
