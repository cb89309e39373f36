"""Comparing Covage's CSV export with the portal's records, and resolving what differs.

``reconcile_export`` runs for every stored export (scheduled, requested, or the portal's own):
1. ``orders.services.settle.settle_from_export`` applies Covage's states (Covage is the source
   of truth for them) and settles the sessions waiting on an export, linking what it finds;
   each state it changed is recorded as a difference of kind ``state``, status ``applied``.
2. The file is read again, row by row, and compared with the portal's records:
   - ``unknown_at_portal``: a Covage session (or a line of a known session) that no portal
     object has as its Covage id;
   - ``missing_at_covage``: a portal session or line linked to Covage before the export
     started that the export does not hold (a line deleted in the portal is expected to go);
   - ``value``: an exported column that the portal sends (a line's fields, its first contact
     entry's; a session's external id and project) holding another value at Covage, for
     lines whose current version Covage acknowledged before the export started.
3. Open differences that this export no longer shows, and that no newer export found, are
   ``gone``.

The file may be 200 MB: it is streamed, only ids are kept in memory, portal objects are read
in batches, and one export records at most ``RECONCILIATION_MAX_NEW_PER_KIND`` new
differences of each kind (a foreign or padded file cannot flood the table; the summary says
how many were left out). Comparing the same export twice records nothing twice: a
difference found again updates its open entry.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from covage import schemas
from covage.export_csv import CONTACT_PREFIX, SESSION_PREFIX, ExportFormatError, ExportRow
from covage.export_csv import read_export as read_export_file
from exports.models import ExportJob
from orders.models import LineContact, OrderLine, OrderSession
from orders.services.errors import OrderError
from orders.services.resync import (
    link_line,
    link_session,
    push_line_again,
    recreate_line,
    recreate_session,
)
from orders.services.settle import AppliedState, settle_from_export
from orders.wire import line_payload
from reconciliation.models import Comparison, Difference

logger = logging.getLogger(__name__)

Kind = Difference.Kind
Status = Difference.Status

DEFAULT_MAX_NEW_PER_KIND = 1000
BATCH_ROWS = 1000

# The line fields the portal sends (the creating POST's table), compared where the export has
# a column of that name; the contact entry is compared field by field under ``contact_``.
LINE_WIRE_FIELDS = tuple(
    name
    for name in schemas.LinePayload.__dataclass_fields__
    if name != "related_contact_information"
)
CONTACT_WIRE_FIELDS = tuple(schemas.ContactInformation.__dataclass_fields__)
SESSION_COMPARED_FIELDS = ("external_id", "project_id")
# Covage's PATCH cannot change these (only the creating POST sets them): sending the line
# again does not resolve them; replacing the line does.
OFFER_COLUMNS = frozenset(schemas.OFFER_FIELDS)


class ResolutionError(Exception):
    """A resolution that cannot be done; str() is the message for the back office."""


def max_new_per_kind() -> int:
    return int(getattr(settings, "RECONCILIATION_MAX_NEW_PER_KIND", DEFAULT_MAX_NEW_PER_KIND))


# --- The summary ------------------------------------------------------------------------------


def _per_kind() -> dict[str, int]:
    return dict.fromkeys(Kind.values, 0)


@dataclass
class Summary:
    """What one comparison found. ``found`` counts differences per kind, ``new`` those
    recorded for the first time, ``not_recorded`` those left out past the cap."""

    job_id: int
    status: str = Comparison.Status.DONE
    rows: int = 0
    sessions: int = 0
    lines: int = 0
    found: dict[str, int] = field(default_factory=_per_kind)
    new: dict[str, int] = field(default_factory=_per_kind)
    not_recorded: dict[str, int] = field(default_factory=_per_kind)
    updated: int = 0
    still_dismissed: int = 0
    being_created: int = 0
    gone: int = 0
    cap: int = DEFAULT_MAX_NEW_PER_KIND
    error: str = ""

    @property
    def capped(self) -> bool:
        return any(self.not_recorded.values())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "capped": self.capped}


# --- Normalising values -----------------------------------------------------------------------


def _model_field(model: type[models.Model], name: str) -> models.Field[Any, Any] | None:
    try:
        found = model._meta.get_field(name)
    except Exception:
        return None
    return found if isinstance(found, models.Field) else None


def field_label(column: str) -> str:
    """The label a person knows a column by: the model field's own, as the forms show it."""
    if column.startswith(SESSION_PREFIX):
        model_field = _model_field(OrderSession, column.removeprefix(SESSION_PREFIX))
        if model_field is not None:
            return _("Session: %(label)s") % {"label": model_field.verbose_name}
    elif column.startswith(CONTACT_PREFIX):
        model_field = _model_field(LineContact, column.removeprefix(CONTACT_PREFIX))
        if model_field is not None:
            return _("%(label)s (contact entry)") % {"label": model_field.verbose_name}
    else:
        model_field = _model_field(OrderLine, column)
        if model_field is not None:
            return str(model_field.verbose_name)
    return column


def as_text(value: Any) -> str:
    """A value as the export writes it: options joined by ``|``, booleans ``true``/``false``,
    dates ISO, nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "|".join(str(item) for item in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").strip()


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def same_value(model_field: models.Field[Any, Any] | None, portal: Any, covage: str) -> bool:
    """Whether the portal's value and Covage's cell say the same, each side normalised by the
    field's type: empty equals empty, numbers as numbers, booleans and dates by meaning,
    options as a set."""
    covage = _clean(covage)
    if isinstance(model_field, models.BooleanField) or isinstance(portal, bool):
        # Covage stores a null boolean as false (its empty value).
        return bool(portal) == bool(schemas._bool(covage))
    if isinstance(portal, list | tuple):
        ours = {str(item).strip() for item in portal if str(item).strip()}
        theirs = {item.strip() for item in covage.split("|") if item.strip()}
        return ours == theirs
    portal_text = _clean(as_text(portal))
    if portal_text == covage:
        return True
    if isinstance(model_field, models.IntegerField | models.FloatField) or isinstance(
        portal, int | float
    ):
        ours_number, theirs_number = _number(portal_text), _number(covage)
        if ours_number is None or theirs_number is None:
            return False
        return math.isclose(ours_number, theirs_number, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(model_field, models.DateField):
        ours_date, theirs_date = schemas.parse_date(portal_text), schemas.parse_date(covage)
        return ours_date is not None and ours_date == theirs_date
    return False


# --- What a comparison finds ------------------------------------------------------------------


@dataclass
class Found:
    kind: str
    key: str
    session_id: int | None = None
    line_id: int | None = None
    covage_session_id: str = ""
    covage_line_id: str = ""
    external_id: str = ""
    field: str = ""
    field_label: str = ""
    portal_value: str = ""
    covage_value: str = ""

    def values(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "line_id": self.line_id,
            "covage_session_id": self.covage_session_id,
            "covage_line_id": self.covage_line_id,
            "external_id": self.external_id,
            "field": self.field,
            "field_label": self.field_label[:255],
            "portal_value": self.portal_value,
            "covage_value": self.covage_value,
        }


_UPDATED_FIELDS = (
    "session",
    "line",
    "covage_session_id",
    "covage_line_id",
    "external_id",
    "field",
    "field_label",
    "portal_value",
    "covage_value",
    "last_seen",
    "export_job",
    "seen_in_export_started_at",
)


class _Recorder:
    """Writes what a comparison finds, a batch at a time: a difference already open is
    updated, one dismissed with the same values stays dismissed, a new one is created while
    its kind is under the cap."""

    def __init__(self, *, job: ExportJob, export_started_at: datetime, summary: Summary) -> None:
        self.job = job
        self.started = export_started_at
        self.summary = summary
        self.now = timezone.now()

    def add(self, items: list[Found]) -> None:
        if not items:
            return
        unique = {item.key: item for item in items}
        open_by_key = {
            difference.key: difference
            for difference in Difference.objects.filter(key__in=list(unique), status=Status.OPEN)
        }
        dismissed = {
            (key, portal, covage): pk
            for pk, key, portal, covage in Difference.objects.filter(
                key__in=list(unique), status=Status.DISMISSED
            ).values_list("pk", "key", "portal_value", "covage_value")
        }
        to_update: list[Difference] = []
        to_create: list[Difference] = []
        still_dismissed: list[int] = []
        for key, item in unique.items():
            self.summary.found[item.kind] += 1
            existing = open_by_key.get(key)
            if existing is not None:
                self._refresh(existing, item)
                to_update.append(existing)
            elif (key, item.portal_value, item.covage_value) in dismissed:
                still_dismissed.append(dismissed[(key, item.portal_value, item.covage_value)])
            elif self.summary.new[item.kind] >= self.summary.cap:
                self.summary.not_recorded[item.kind] += 1
            else:
                self.summary.new[item.kind] += 1
                to_create.append(self._new(item))
        if to_update:
            Difference.objects.bulk_update(to_update, _UPDATED_FIELDS)
            self.summary.updated += len(to_update)
        if still_dismissed:
            Difference.objects.filter(pk__in=still_dismissed).update(
                last_seen=self.now, export_job=self.job
            )
            self.summary.still_dismissed += len(still_dismissed)
        self._create(to_create)

    def _new(self, item: Found) -> Difference:
        return Difference(
            kind=item.kind,
            key=item.key,
            status=Status.OPEN,
            export_job=self.job,
            first_seen=self.now,
            last_seen=self.now,
            seen_in_export_started_at=self.started,
            **item.values(),
        )

    def _refresh(self, difference: Difference, item: Found) -> None:
        difference.last_seen = self.now
        newest = difference.seen_in_export_started_at
        if newest is None or newest <= self.started:
            # An export compared late never overwrites what a newer one found.
            for name, value in item.values().items():
                setattr(difference, name, value)
            difference.export_job = self.job
            difference.seen_in_export_started_at = self.started

    def _create(self, differences: list[Difference]) -> None:
        if not differences:
            return
        try:
            with transaction.atomic():
                Difference.objects.bulk_create(differences)
            return
        except IntegrityError:
            pass  # another comparison of the same export opened some of them meanwhile
        for difference in differences:
            try:
                with transaction.atomic():
                    difference.save(force_insert=True)
            except IntegrityError:
                difference.pk = None
                Difference.objects.filter(key=difference.key, status=Status.OPEN).update(
                    last_seen=self.now
                )


def _batches(rows: Iterable[ExportRow], size: int) -> Iterator[list[ExportRow]]:
    batch: list[ExportRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _summary_text(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _session_linked_before(session: OrderSession, moment: datetime) -> bool:
    if session.creation_date is not None:
        return session.creation_date <= moment
    return session.last_synced_at is not None and session.last_synced_at <= moment


def _line_comparable(line: OrderLine, moment: datetime) -> bool:
    """Covage acknowledged the line's current version before the export started."""
    return (
        line.deleted_at is None
        and line.synced_version >= line.version
        and line.last_synced_at is not None
        and line.last_synced_at <= moment
    )


def _unknown_session(row: ExportRow) -> Found:
    return Found(
        kind=Kind.UNKNOWN_AT_PORTAL,
        key=f"unknown_at_portal:session:{row.session_id}",
        covage_session_id=row.session_id,
        external_id=row.session_external_id,
        covage_value=_summary_text(
            row.session_state, row.session.get("project_id", ""), row.session_external_id
        ),
    )


def _unknown_line(row: ExportRow, session: OrderSession) -> Found:
    line = row.line
    offer = " ".join(
        part for part in (line.get("offer_family"), line.get("offer_technology")) if part
    )
    return Found(
        kind=Kind.UNKNOWN_AT_PORTAL,
        key=f"unknown_at_portal:line:{row.line_id}",
        session_id=session.pk,
        covage_session_id=row.session_id,
        covage_line_id=row.line_id,
        external_id=row.line_external_id,
        covage_value=_summary_text(
            row.line_state,
            offer,
            line.get("end_customer_name", ""),
            line.get("order_reference", "") or line.get("temporary_reference", ""),
            row.line_external_id,
        ),
    )


def _session_values(session: OrderSession, row: ExportRow) -> list[Found]:
    found = []
    for name in SESSION_COMPARED_FIELDS:
        if name not in row.session:
            continue
        portal = getattr(session, name)
        model_field = _model_field(OrderSession, name)
        if same_value(model_field, portal, row.session[name]):
            continue
        column = f"{SESSION_PREFIX}{name}"
        found.append(
            Found(
                kind=Kind.VALUE,
                key=f"value:session:{row.session_id}:{column}",
                session_id=session.pk,
                covage_session_id=row.session_id,
                external_id=session.external_id,
                field=column,
                field_label=field_label(column),
                portal_value=as_text(portal),
                covage_value=row.session[name],
            )
        )
    return found


def _line_values(line: OrderLine, row: ExportRow) -> list[Found]:
    wire = line_payload(line, line.session).to_wire()
    contacts = wire.get("related_contact_information") or [{}]
    compared: list[tuple[str, models.Field[Any, Any] | None, Any, str]] = []
    for name in LINE_WIRE_FIELDS:
        if name in row.line:
            compared.append((name, _model_field(OrderLine, name), wire.get(name), row.line[name]))
    for name in CONTACT_WIRE_FIELDS:
        if name in row.contact:
            compared.append(
                (
                    f"{CONTACT_PREFIX}{name}",
                    _model_field(LineContact, name),
                    contacts[0].get(name),
                    row.contact[name],
                )
            )
    found = []
    for column, model_field, portal, covage in compared:
        if same_value(model_field, portal, covage):
            continue
        found.append(
            Found(
                kind=Kind.VALUE,
                key=f"value:line:{row.line_id}:{column}",
                session_id=line.session_id,
                line_id=line.pk,
                covage_session_id=row.session_id,
                covage_line_id=row.line_id,
                external_id=line.external_id,
                field=column,
                field_label=field_label(column),
                portal_value=as_text(portal),
                covage_value=covage,
            )
        )
    return found


class _Comparer:
    """The second reading of the file: one batch of rows at a time."""

    def __init__(self, *, export_started_at: datetime, summary: Summary) -> None:
        self.started = export_started_at
        self.summary = summary
        self.seen_sessions: set[str] = set()
        self.seen_lines: set[str] = set()

    def batch(self, rows: list[ExportRow]) -> list[Found]:
        self.summary.rows += len(rows)
        session_rows: dict[str, ExportRow] = {}
        line_rows: dict[str, ExportRow] = {}
        for row in rows:
            if not row.session_id:
                continue
            if row.session_id not in self.seen_sessions:
                session_rows.setdefault(row.session_id, row)
            if row.line_id and row.line_id not in self.seen_lines:
                line_rows.setdefault(row.line_id, row)
        self.seen_sessions.update(session_rows)
        self.seen_lines.update(line_rows)

        wanted = set(session_rows) | {row.session_id for row in line_rows.values()}
        sessions = {s.covage_id: s for s in OrderSession.objects.filter(covage_id__in=wanted)}
        lines = {
            line.covage_id: line
            for line in OrderLine.objects.filter(covage_id__in=list(line_rows))
            .select_related("session")
            .prefetch_related("contacts")
        }
        return self._sessions(session_rows, sessions) + self._lines(line_rows, sessions, lines)

    def _sessions(
        self, session_rows: dict[str, ExportRow], sessions: dict[str, OrderSession]
    ) -> list[Found]:
        unknown = {sid: row for sid, row in session_rows.items() if sid not in sessions}
        # A session whose creating POST is in flight or waits for an export: the portal's own
        # recovery links it; it is not a stranger.
        being_created = (
            set(
                OrderSession.objects.filter(
                    covage_id="",
                    external_id__in=[row.session_external_id for row in unknown.values()],
                )
                .filter(Q(create_attempted_at__isnull=False) | Q(settle_after__isnull=False))
                .values_list("external_id", flat=True)
            )
            if unknown
            else set()
        )
        found: list[Found] = []
        for covage_id, row in session_rows.items():
            session = sessions.get(covage_id)
            if session is None:
                if row.session_external_id and row.session_external_id in being_created:
                    self.summary.being_created += 1
                else:
                    found.append(_unknown_session(row))
            elif _session_linked_before(session, self.started):
                found += _session_values(session, row)
        return found

    def _lines(
        self,
        line_rows: dict[str, ExportRow],
        sessions: dict[str, OrderSession],
        lines: dict[str, OrderLine],
    ) -> list[Found]:
        unknown = [
            row for lid, row in line_rows.items() if lid not in lines and row.session_id in sessions
        ]
        being_created = (
            set(
                OrderLine.objects.filter(
                    covage_id="",
                    deleted_at__isnull=True,
                    create_attempted_at__isnull=False,
                    session__covage_id__in={row.session_id for row in unknown},
                    external_id__in={row.line_external_id for row in unknown},
                ).values_list("session__covage_id", "external_id")
            )
            if unknown
            else set()
        )
        found: list[Found] = []
        for covage_id, row in line_rows.items():
            line = lines.get(covage_id)
            if line is not None:
                if _line_comparable(line, self.started):
                    found += _line_values(line, row)
                continue
            session = sessions.get(row.session_id)
            if session is None:
                continue  # a line of a session unknown to the portal: reported with it
            if (row.session_id, row.line_external_id) in being_created:
                self.summary.being_created += 1
            else:
                found.append(_unknown_line(row, session))
        return found

    def missing(self) -> Iterator[list[Found]]:
        """Portal sessions and lines linked to Covage before the export started that the
        export does not hold; a session's lines are not listed when it is missing itself."""
        self.summary.sessions = len(self.seen_sessions)
        self.summary.lines = len(self.seen_lines)
        missing_sessions: set[int] = set()
        found: list[Found] = []
        sessions = (
            OrderSession.objects.exclude(covage_id="")
            .filter(
                Q(creation_date__lte=self.started)
                | Q(creation_date__isnull=True, last_synced_at__lte=self.started)
            )
            .only("pk", "covage_id", "external_id", "remote_state")
            .order_by("pk")
        )
        for session in sessions.iterator(chunk_size=2000):
            if session.covage_id in self.seen_sessions:
                continue
            missing_sessions.add(session.pk)
            found.append(
                Found(
                    kind=Kind.MISSING_AT_COVAGE,
                    key=f"missing_at_covage:session:{session.covage_id}",
                    session_id=session.pk,
                    covage_session_id=session.covage_id,
                    external_id=session.external_id,
                    portal_value=_summary_text(session.remote_state, session.external_id),
                )
            )
            if len(found) >= BATCH_ROWS:
                yield found
                found = []
        lines = (
            OrderLine.objects.exclude(covage_id="")
            .filter(deleted_at__isnull=True, last_synced_at__lte=self.started)
            .select_related("session")
            .only(
                "pk",
                "covage_id",
                "external_id",
                "position",
                "remote_state",
                "end_customer_name",
                "session_id",
                "session__covage_id",
                "session__external_id",
            )
            .order_by("pk")
        )
        for line in lines.iterator(chunk_size=2000):
            if line.covage_id in self.seen_lines or line.session_id in missing_sessions:
                continue
            found.append(
                Found(
                    kind=Kind.MISSING_AT_COVAGE,
                    key=f"missing_at_covage:line:{line.covage_id}",
                    session_id=line.session_id,
                    line_id=line.pk,
                    covage_session_id=line.session.covage_id,
                    covage_line_id=line.covage_id,
                    external_id=line.external_id,
                    portal_value=_summary_text(
                        _("Line %(position)s") % {"position": line.position},
                        line.remote_state,
                        line.end_customer_name,
                    ),
                )
            )
            if len(found) >= BATCH_ROWS:
                yield found
                found = []
        if found:
            yield found


def _record_applied_states(
    applied: list[AppliedState], *, job: ExportJob, summary: Summary, export_started_at: datetime
) -> None:
    """Covage's states, applied by settle: kept as a record of what each side held."""
    now = timezone.now()
    resolution = _("Applied: Covage is the source of truth for states.")
    for change in applied:
        line = change.line
        session = change.session
        target = f"line:{line.covage_id}" if line is not None else f"session:{session.covage_id}"
        summary.found[Kind.STATE] += 1
        _difference, created = Difference.objects.get_or_create(
            key=f"state:{target}:{job.pk}:{change.after}",
            status=Status.APPLIED,
            defaults={
                "kind": Kind.STATE,
                "export_job": job,
                "session": session,
                "line": line,
                "covage_session_id": session.covage_id,
                "covage_line_id": line.covage_id if line is not None else "",
                "external_id": line.external_id if line is not None else session.external_id,
                "field": "state" if line is not None else f"{SESSION_PREFIX}state",
                "field_label": _("Covage state"),
                "portal_value": change.before,
                "covage_value": change.after,
                "resolution": resolution,
                "resolved_at": now,
                "first_seen": now,
                "last_seen": now,
                "seen_in_export_started_at": export_started_at,
            },
        )
        if created:
            summary.new[Kind.STATE] += 1


def _mark_gone(*, job: ExportJob, export_started_at: datetime) -> int:
    return Difference.objects.filter(
        status=Status.OPEN, seen_in_export_started_at__lt=export_started_at
    ).update(
        status=Status.GONE,
        resolved_at=timezone.now(),
        resolution=_("No longer found in export #%(job)s.") % {"job": job.pk},
    )


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
        summary.status = "skipped"
        summary.error = _("This export has no file to compare.")
        return summary
    started = export_started_at(job)
    comparison = _comparison_for(job, started)
    try:
        with _export_path(job) as path:
            applied = settle_from_export(rows=read_export_file(path), export_started_at=started)
            _record_applied_states(applied, job=job, summary=summary, export_started_at=started)
            recorder = _Recorder(job=job, export_started_at=started, summary=summary)
            comparer = _Comparer(export_started_at=started, summary=summary)
            for rows in _batches(read_export_file(path), BATCH_ROWS):
                recorder.add(comparer.batch(rows))
            for found in comparer.missing():
                recorder.add(found)
        summary.gone = _mark_gone(job=job, export_started_at=started)
    except FileNotFoundError:
        summary.status = Comparison.Status.FAILED
        summary.error = _("The export's file is no longer stored: it cannot be compared.")
    except ExportFormatError as exc:
        summary.status = Comparison.Status.FAILED
        summary.error = _("The export's file cannot be read: %(reason)s") % {"reason": exc}
    except Exception:
        summary.status = Comparison.Status.FAILED
        summary.error = _("The comparison stopped on an unexpected error; see the logs.")
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
    difference: Difference, *, user: AbstractBaseUser, status: str, resolution: str
) -> Difference:
    difference.status = status
    difference.resolution = resolution
    difference.resolved_by = user
    difference.resolved_at = timezone.now()
    difference.save(
        update_fields=["status", "resolution", "resolved_by", "resolved_at", "session", "line"]
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
            resolution = _("Sent again to Covage with the portal's values.")
            others = (
                Difference.objects.select_for_update()
                .filter(kind=Kind.VALUE, status=Status.OPEN, line_id=line.pk)
                .exclude(pk=locked.pk)
                .exclude(field__in=OFFER_COLUMNS)
            )
            for other in others:
                _close(other, user=user, status=Status.RESOLVED, resolution=resolution)
        elif locked.line_id is not None or locked.covage_line_id:
            recreate_line(user=user, line=_line_of(locked))
            resolution = _("Created again at Covage.")
        else:
            session = OrderSession.objects.filter(pk=locked.session_id).first()
            if session is None:
                raise ResolutionError(_("This session no longer exists in the portal."))
            recreate_session(user=user, session=session)
            resolution = _("Created again at Covage, with its lines.")
    except OrderError as exc:
        raise ResolutionError(str(exc)) from exc
    return _close(locked, user=user, status=Status.RESOLVED, resolution=resolution)


def _line_of(difference: Difference) -> OrderLine:
    line = OrderLine.objects.filter(pk=difference.line_id).first()
    if line is None or line.deleted_at is not None:
        raise ResolutionError(_("This line no longer exists in the portal."))
    return line


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
            resolution = _("Linked to line %(line)s.") % {"line": linked}
        else:
            if not isinstance(target, OrderSession):
                raise ResolutionError(_("Choose a portal session to link this Covage session to."))
            session = link_session(user=user, session=target, covage_id=locked.covage_session_id)
            locked.session = session
            resolution = _("Linked to session %(session)s.") % {"session": session}
    except OrderError as exc:
        raise ResolutionError(str(exc)) from exc
    return _close(locked, user=user, status=Status.RESOLVED, resolution=resolution)


@transaction.atomic
def dismiss(*, user: AbstractBaseUser, difference: Difference, reason: str) -> Difference:
    """Leave it as it is, saying why (the reason is required, and kept)."""
    reason = (reason or "").strip()
    if not reason:
        raise ResolutionError(_("Give the reason for dismissing this difference."))
    locked = _open_difference(difference)
    return _close(locked, user=user, status=Status.DISMISSED, resolution=reason)
