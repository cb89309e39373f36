"""What differs between Covage's CSV export and the portal's records (the rules of the
comparison; reconciliation.services runs it and resolves what it finds).

- ``unknown_at_portal``: a Covage session (or a line of a session the portal knows) that no
  portal object has as its Covage id, unless the portal is creating it (a creating POST in
  flight or waiting for an export: its own recovery links it).
- ``missing_at_covage``: a portal session or line linked to Covage before the export started
  that the export does not hold (a line deleted in the portal is expected to go; the lines of a
  missing session are not listed on their own).
- ``value``: an exported column that the portal sends (a line's fields, its first contact
  entry's under ``contact_``, a session's external id and project) holding something else at
  Covage, for lines whose current version Covage acknowledged before the export started. Both
  sides are normalised by the field's type first: empty equals empty, numbers as numbers,
  booleans and dates by meaning (Covage stores a null boolean as false), options as a set.
- ``state``: what ``orders.services.settle`` applied, recorded as a difference ``applied``.

Memory is bounded by the portal's own records, never by the file: rows are read in batches,
the portal objects they name are looked up per batch, and only the Covage ids of the portal's
sessions and lines met are kept, with a window of recent strangers (an export lists a
session's lines together). One export records at most ``RECONCILIATION_MAX_NEW_PER_KIND``
new differences of each kind: a foreign or padded file cannot flood the table, and the
summary says how many were left out.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from covage import schemas
from covage.export_csv import CONTACT_PREFIX, SESSION_PREFIX, ExportRow
from exports.models import ExportJob
from orders.models import LineContact, OrderLine, OrderSession
from orders.services.settle import AppliedState
from orders.wire import line_payload
from reconciliation import texts
from reconciliation.models import Comparison, Difference
from reconciliation.texts import model_field as _model_field

Kind = Difference.Kind
Status = Difference.Status

DEFAULT_MAX_NEW_PER_KIND = 1000
# Rows read before the portal's records are looked up (a few queries per batch).
BATCH_ROWS = 200
# How many recent strangers (Covage ids unknown to the portal) are remembered, so that a
# session listed on several rows is reported once.
STRANGERS_WINDOW = 2000

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
    # Why it did not finish: a code of reconciliation.texts.COMPARISON_ERRORS and its
    # parameters (shown in the reader's language), and the English text.
    error: str = ""
    error_code: str = ""
    error_params: dict[str, Any] = field(default_factory=dict)

    @property
    def capped(self) -> bool:
        return any(self.not_recorded.values())

    def fail(self, status: str, code: str, **params: Any) -> None:
        self.status = status
        self.error_code = code
        self.error_params = params
        self.error = texts.english(texts.COMPARISON_ERRORS, code, params)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "capped": self.capped}


# --- Normalising values -----------------------------------------------------------------------


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
    "portal_value",
    "covage_value",
    "last_seen",
    "export_job",
    "seen_in_export_started_at",
)


class Recorder:
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


def batches(rows: Iterable[ExportRow], size: int) -> Iterator[list[ExportRow]]:
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


def _unknown_line(row: ExportRow, session_id: int) -> Found:
    line = row.line
    offer = " ".join(
        part for part in (line.get("offer_family"), line.get("offer_technology")) if part
    )
    return Found(
        kind=Kind.UNKNOWN_AT_PORTAL,
        key=f"unknown_at_portal:line:{row.line_id}",
        session_id=session_id,
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
                portal_value=as_text(portal),
                covage_value=covage,
            )
        )
    return found


class _Recent:
    """The last ``size`` ids added (an export lists a session's lines together, so a window
    is enough to meet each stranger once, in constant memory whatever the file's size)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, item: str) -> bool:
        return item in self.ids

    def add(self, item: str) -> None:
        self.ids[item] = None
        self.ids.move_to_end(item)
        if len(self.ids) > self.size:
            self.ids.popitem(last=False)


class Comparer:
    """The second reading of the file, one batch of rows at a time. What it keeps in memory
    is bounded by the portal's own records, never by the file: the Covage ids of the portal's
    sessions and lines met, and a window of recent strangers."""

    def __init__(self, *, export_started_at: datetime, summary: Summary) -> None:
        self.started = export_started_at
        self.summary = summary
        self.known_sessions: dict[str, int] = {}  # Covage id -> portal session id
        self.compared_lines: set[str] = set()
        self.strangers = _Recent(STRANGERS_WINDOW)

    def batch(self, rows: list[ExportRow]) -> list[Found]:
        self.summary.rows += len(rows)
        session_rows: dict[str, ExportRow] = {}
        line_rows: dict[str, ExportRow] = {}
        for row in rows:
            if not row.session_id:
                continue
            if row.session_id not in self.known_sessions and row.session_id not in self.strangers:
                session_rows.setdefault(row.session_id, row)
            if row.line_id:
                self.summary.lines += 1
                if row.line_id not in self.compared_lines:
                    line_rows.setdefault(row.line_id, row)
        found = self._sessions(session_rows)
        # The lines of a session unknown to the portal are reported with it.
        known = self.known_sessions
        line_rows = {key: row for key, row in line_rows.items() if row.session_id in known}
        return found + self._lines(line_rows)

    def _sessions(self, session_rows: dict[str, ExportRow]) -> list[Found]:
        if not session_rows:
            return []
        self.summary.sessions += len(session_rows)
        sessions = {
            session.covage_id: session
            for session in OrderSession.objects.filter(covage_id__in=list(session_rows))
        }
        unknown = [row for covage_id, row in session_rows.items() if covage_id not in sessions]
        # A session whose creating POST is in flight or waits for an export: the portal's own
        # recovery links it; it is not a stranger.
        being_created = (
            set(
                OrderSession.objects.filter(
                    covage_id="", external_id__in=[row.session_external_id for row in unknown]
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
            if session is not None:
                self.known_sessions[covage_id] = session.pk
                if _session_linked_before(session, self.started):
                    found += _session_values(session, row)
                continue
            self.strangers.add(covage_id)
            if row.session_external_id and row.session_external_id in being_created:
                self.summary.being_created += 1
            else:
                found.append(_unknown_session(row))
        return found

    def _lines(self, line_rows: dict[str, ExportRow]) -> list[Found]:
        if not line_rows:
            return []
        lines = {
            line.covage_id: line
            for line in OrderLine.objects.filter(covage_id__in=list(line_rows))
            .select_related("session")
            .prefetch_related("contacts")
        }
        unknown = [row for line_id, row in line_rows.items() if line_id not in lines]
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
                self.compared_lines.add(covage_id)
                if _line_comparable(line, self.started):
                    found += _line_values(line, row)
            elif covage_id in self.strangers:
                continue
            elif (row.session_id, row.line_external_id) in being_created:
                self.strangers.add(covage_id)
                self.summary.being_created += 1
            else:
                self.strangers.add(covage_id)
                found.append(_unknown_line(row, self.known_sessions[row.session_id]))
        return found

    def missing(self) -> Iterator[list[Found]]:
        """Portal sessions and lines linked to Covage before the export started that the
        export does not hold; a session's lines are not listed when it is missing itself."""
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
            if session.covage_id in self.known_sessions:
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
            if line.covage_id in self.compared_lines or line.session_id in missing_sessions:
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
                    # Values only, no words: the line itself (and its position) is the
                    # difference's subject, shown in the reader's language.
                    portal_value=_summary_text(line.remote_state, line.end_customer_name),
                )
            )
            if len(found) >= BATCH_ROWS:
                yield found
                found = []
        if found:
            yield found


def record_applied_states(
    applied: list[AppliedState], *, job: ExportJob, summary: Summary, export_started_at: datetime
) -> None:
    """Covage's states, applied by settle: kept as a record of what each side held."""
    now = timezone.now()
    resolution = texts.english(texts.RESOLUTIONS, texts.APPLIED_STATE)
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
                "portal_value": change.before,
                "covage_value": change.after,
                "resolution": resolution,
                "resolution_code": texts.APPLIED_STATE,
                "resolved_at": now,
                "first_seen": now,
                "last_seen": now,
                "seen_in_export_started_at": export_started_at,
            },
        )
        if created:
            summary.new[Kind.STATE] += 1


def mark_gone(*, job: ExportJob, export_started_at: datetime) -> int:
    return Difference.objects.filter(
        status=Status.OPEN, seen_in_export_started_at__lt=export_started_at
    ).update(
        status=Status.GONE,
        resolved_at=timezone.now(),
        resolution=texts.english(texts.RESOLUTIONS, texts.GONE, {"job": job.pk}),
        resolution_code=texts.GONE,
        resolution_params={"job": job.pk},
    )
