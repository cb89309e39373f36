"""Imports of a session's lines from a sheet: read, check, preview, fix, then create.

Each row goes through what a line typed on the step pages goes through: the five step forms
(orders.forms.LineCorrection, the back office's all-steps form: same fields, normalisation
and format checks) and the confirmation check (orders.confirmation.check_line), on an unsaved
line. Nothing is an order line until the user confirms the import; the lines are then created
by orders.services.drafts (add_line, save_line), as the step pages create them, in one
transaction, and the session is queued for Covage once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from bulk import columns, dispatch, sheets
from bulk.models import ImportBatch, ImportRow
from orders.confirmation import check_line, is_dia
from orders.forms import LineCorrection
from orders.models import LineContact, OrderLine, OrderSession
from orders.services import drafts
from orders.services.errors import OrderError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The history names the import as the place a line's values were typed.
IMPORT_TITLE = gettext_lazy("Import from a sheet")

# A value beginning with one of these is a formula to a spreadsheet (CSV injection): refused,
# except the start a field's own format has (a phone number in +33 form, a negative degree).
FORMULA_STARTS = ("=", "+", "-", "@")
ALLOWED_STARTS: dict[str, tuple[str, ...]] = {
    "contact1_phone_number": ("+",),
    "contact2_phone_number": ("+",),
    "latitude": ("-",),
    "longitude": ("-",),
}
FORMULA_REFUSED = gettext_lazy(
    "A value cannot begin with “%(start)s”: a spreadsheet would take it for a formula. "
    "Type the value itself."
)
YES_NO_REFUSED = gettext_lazy("Enter yes or no (or leave it empty).")
YES = frozenset({"yes", "y", "oui", "o", "true", "vrai", "1", "x"})
NO = frozenset({"no", "n", "non", "false", "faux", "0"})
# Numbers Excel shows without their leading zero.
ZERO_PADDED = {"postcode": 5, "insee_code": 5}
BOOLEAN_COLUMNS = frozenset({"siret_known"})
DIA_ENNI_2 = gettext_lazy("Leave the second ENNI empty for the DIA offer: Covage sets it.")
# A placeholder id for the unsaved line a row is checked on: its contacts are given, never
# read from the database, and it is never saved.
UNSAVED_PK = 0


# --- Cell values -------------------------------------------------------------------------------


def cell_text(name: str, value: Any) -> str:
    """A cell as the text a person would have typed in the field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and name not in ("latitude", "longitude"):
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        width = ZERO_PADDED.get(name)
        return text.zfill(width) if width and len(text) < width else text
    return str(value).strip()


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return gettext("yes") if value else gettext("no")


def line_values(line: OrderLine, contact: LineContact | None) -> dict[str, str]:
    """A saved line as the sheet's cells (the export, and the template's columns)."""
    values: dict[str, str] = {}
    for name in columns.COLUMNS:
        if name in columns.LINE_COLUMNS:
            value = getattr(line, name)
        else:
            value = getattr(contact, name) if contact is not None else None
        if name == "option_ids":
            values[name] = ", ".join(str(option) for option in value or [])
        elif name in BOOLEAN_COLUMNS:
            values[name] = yes_no(value)
        else:
            values[name] = cell_text(name, value)
    return values


def example_values() -> dict[str, str]:
    """The template's example row: a complete line (it passes every check)."""
    values = dict.fromkeys(columns.COLUMNS, "")
    values.update(
        product_offering_id="2173",
        product_offering_qualification_item_id="d5a4a9aa-ba2c-4f53",
        offer_family="BPE",
        offer_technology="FIBDE",
        enni="CN012345",
        vlan_reference="1257",
        end_customer_name="Boulangerie Exemple",
        siret_known=gettext("yes"),
        siret="73282932000074",
        contact1_firstname="Gérard",
        contact1_lastname="Lefèvre",
        contact1_email_address="gerard@example.fr",
        contact1_phone_number="01 23 45 67 89",
        street_number="4",
        street_name="Rue Andreï Sakharov",
        postcode="76130",
        city="Mont-Saint-Aignan",
        insee_code="76451",
        latitude="49.4744077",
        longitude="1.091455",
    )
    return values


def _is_example(values: Mapping[str, str]) -> bool:
    example = example_values()
    return all(
        values.get(name, "") == example[name] for name in columns.COLUMNS if name != "siret_known"
    )


# --- Checking a row ----------------------------------------------------------------------------


@dataclass
class RowCheck:
    errors: dict[str, list[str]] = field(default_factory=dict)
    line_data: dict[str, Any] = field(default_factory=dict)
    contact_data: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def add(self, name: str, message: object) -> None:
        messages = self.errors.setdefault(name, [])
        if str(message) not in messages:
            messages.append(str(message))


def _unsaved_line(session: OrderSession, contact: LineContact | None = None) -> OrderLine:
    """A line that is never saved, whose contacts are `contact` (no query reads them)."""
    line = OrderLine(session=session, position=0)
    line.pk = UNSAVED_PK
    line._prefetched_objects_cache = {"contacts": [contact] if contact is not None else []}  # type: ignore[attr-defined]
    return line


def check_row(session: OrderSession, values: Mapping[str, str]) -> RowCheck:
    """A row's problems, each on its field ("" for the row as a whole), and the values to
    save: the step forms' checks and normalisation, then the confirmation's rules."""
    result = RowCheck()
    data: dict[str, Any] = {"version": "1"}
    for name in columns.COLUMNS:
        text = str(values.get(name, "") or "").strip()
        allowed = ALLOWED_STARTS.get(name, ())
        if text[:1] in FORMULA_STARTS and text[:1] not in allowed:
            result.add(name, FORMULA_REFUSED % {"start": text[:1]})
            text = ""
        if name in BOOLEAN_COLUMNS:
            word = text.casefold()
            if word and word not in YES | NO:
                result.add(name, YES_NO_REFUSED)
            data[name] = "on" if word in YES else ""
        elif name == "option_ids":
            # Every id typed, in the order typed: the form's "other options" input checks them.
            data["option_ids"] = []
            data["other_option_ids"] = text
        else:
            data[name] = text

    correction = LineCorrection(_unsaved_line(session), data=data)
    for name, messages in correction.errors().items():
        for message in messages:
            result.add("option_ids" if name == "other_option_ids" else name, message)
    result.line_data = correction.line_data()
    result.contact_data = correction.contact_data()

    contact = LineContact(position=0, **result.contact_data)
    line = _unsaved_line(session, contact)
    for name, value in result.line_data.items():
        setattr(line, name, value)
    if is_dia(line):
        # The form empties a DIA line's ENNIs: the check says so rather than drop a value.
        line.enni = str(values.get("enni", "") or "").strip()
        line.enni_2 = str(values.get("enni_2", "") or "").strip()
    for problem in check_line(line):
        if problem.field not in result.errors:
            result.add(problem.field if problem.field in columns.COLUMNS else "", problem.message)
    if is_dia(line) and line.enni_2 and "enni_2" not in result.errors:
        result.add("enni_2", DIA_ENNI_2)
    return result


def _apply(row: ImportRow, check: RowCheck) -> ImportRow:
    row.errors = check.errors
    row.valid = check.valid
    return row


# --- Uploading and reading ---------------------------------------------------------------------


def max_upload_bytes() -> int:
    return int(settings.BULK_IMPORT_MAX_UPLOAD_MB * 1024 * 1024)


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@transaction.atomic
def start_import(
    *, user: User, session: OrderSession, file_name: str, content: bytes
) -> ImportBatch:
    """Store an upload and read it: at once when it is small, else in the background (the
    preview shows the progress)."""
    drafts.ensure_editable(session)
    batch = ImportBatch.objects.create(
        session=session,
        owner=user,
        file_name=file_name[:255],
        size=len(content),
        digest=digest(content),
        content=content,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    if len(content) > settings.BULK_IMPORT_BACKGROUND_KB * 1024:
        dispatch.enqueue_read(batch.pk)
    else:
        read_batch(batch.pk)
        batch.refresh_from_db()
    return batch


NO_KNOWN_COLUMN = gettext_lazy(
    "None of the first row's headings is a column of the template: the first row must "
    "name the columns, as in the template."
)
PROGRESS_EVERY = 50


def read_batch(batch_id: int) -> None:
    """Read a stored upload and check its rows, storing the progress as it goes."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.READING).first()
    if batch is None:
        return
    with translation.override(batch.language or settings.LANGUAGE_CODE):
        try:
            sheet = sheets.read_sheet(
                bytes(batch.content or b""),
                batch.file_name,
                max_rows=settings.BULK_IMPORT_MAX_ROWS,
            )
        except sheets.SheetError as exc:
            _fail(batch, exc.message)
            return
        match = columns.match_headers(sheet.header)
        if not match.found:
            _fail(batch, str(NO_KNOWN_COLUMN))
            return
        ImportBatch.objects.filter(pk=batch.pk).update(total_rows=len(sheet.rows))
        rows: list[ImportRow] = []
        skipped_example = False
        valid = 0
        for index, (number, cells) in enumerate(sheet.rows, start=1):
            values = dict.fromkeys(columns.COLUMNS, "")
            for name, cell in zip(match.fields, cells, strict=False):
                if name:
                    values[name] = cell_text(name, cell)
            if _is_example(values):
                skipped_example = True
                continue
            check = check_row(batch.session, values)
            valid += check.valid
            rows.append(
                _apply(ImportRow(batch=batch, index=len(rows), number=number, values=values), check)
            )
            if index % PROGRESS_EVERY == 0:
                ImportBatch.objects.filter(pk=batch.pk).update(processed_rows=index)
        if not rows:
            _fail(batch, str(sheets.NO_ROWS))
            return
        batch.columns = match.fields
        batch.unknown_columns = match.unknown + match.repeated
        batch.missing_columns = match.missing
        batch.total_rows = len(rows)
        batch.processed_rows = len(rows)
        batch.valid_rows = valid
        batch.skipped_example = skipped_example
        batch.status = ImportBatch.Status.READY
        batch.content = None
        with transaction.atomic():
            # A worker that died half-way left nothing: this one starts over.
            ImportRow.objects.filter(batch=batch).delete()
            ImportRow.objects.bulk_create(rows, batch_size=500)
            batch.save()


def _fail(batch: ImportBatch, message: str) -> None:
    batch.status = ImportBatch.Status.FAILED
    batch.error = message
    batch.content = None
    batch.save(update_fields=["status", "error", "content", "updated_at"])


# --- Fixing the preview ------------------------------------------------------------------------


class ImportRefused(OrderError):
    """The import cannot go ahead; the message says why."""


class DuplicateImport(ImportRefused):
    """This file was imported into the session before: the user must say to import it again."""

    def __init__(self, earlier: ImportBatch) -> None:
        super().__init__(
            gettext(
                "This file was already imported into this session on %(date)s "
                "(%(count)s lines). Tick “Import it again” to create its lines once more."
            )
            % {
                "date": date_format(
                    timezone.localtime(earlier.imported_at or earlier.created_at),
                    "SHORT_DATETIME_FORMAT",
                ),
                "count": earlier.imported_lines,
            }
        )
        self.earlier = earlier


def _ready(batch: ImportBatch) -> None:
    if batch.status != ImportBatch.Status.READY:
        raise ImportRefused(
            gettext("This import was already carried out or cancelled: upload the file again.")
        )


@transaction.atomic
def fix_cell(*, batch: ImportBatch, index: int, name: str, value: str) -> ImportRow:
    """Change one cell of the preview and check its row again; returns the row."""
    batch = ImportBatch.objects.select_for_update().select_related("session").get(pk=batch.pk)
    _ready(batch)
    row = ImportRow.objects.filter(batch=batch, index=index).first()
    if name not in columns.COLUMNS or row is None:
        raise ImportRefused(gettext("This cell is not in the preview."))
    row.values[name] = value.strip()
    _apply(row, check_row(batch.session, row.values)).save()
    batch.valid_rows = batch.sheet_rows.filter(valid=True).count()
    batch.save(update_fields=["valid_rows", "updated_at"])
    return row


def earlier_import(batch: ImportBatch) -> ImportBatch | None:
    """The last import of the same file into the same session, if any."""
    return (
        ImportBatch.objects.filter(
            session_id=batch.session_id,
            digest=batch.digest,
            status=ImportBatch.Status.IMPORTED,
        )
        .exclude(pk=batch.pk)
        .order_by("-imported_at")
        .first()
    )


@transaction.atomic
def cancel_import(*, batch: ImportBatch) -> None:
    cancelled = ImportBatch.objects.filter(
        pk=batch.pk, status__in=[ImportBatch.Status.READY, ImportBatch.Status.READING]
    ).update(status=ImportBatch.Status.CANCELLED, content=None)
    if cancelled:
        ImportRow.objects.filter(batch=batch).delete()


@dataclass
class ImportResult:
    created: list[OrderLine]
    left_out: int


def import_rows(
    *, user: User, batch: ImportBatch, policy: str, again: bool = False
) -> ImportResult:
    """Create the lines of a checked upload, as the step pages create them.

    Every row is checked again first (a date may have passed, Covage's lists may have
    changed since the preview). ALL_OR_NONE creates nothing unless every row is valid;
    VALID_ONLY leaves the others out. The same file imported into the session before is
    refused unless `again`. The session is queued for Covage once, after the commit."""
    if policy not in ImportBatch.Policy.values:
        raise ImportRefused(gettext("Choose which rows to import."))
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("session").get(pk=batch.pk)
        _ready(batch)
        session = batch.session
        drafts.ensure_editable(session)
        earlier = earlier_import(batch)
        if earlier is not None and not again:
            raise DuplicateImport(earlier)
        rows = list(batch.sheet_rows.all())
        checks = [check_row(session, row.values) for row in rows]
        changed = [
            _apply(row, check)
            for row, check in zip(rows, checks, strict=True)
            if row.errors != check.errors
        ]
        valid = sum(check.valid for check in checks)
        batch.valid_rows = valid
        refused = not valid or (policy == ImportBatch.Policy.ALL_OR_NONE and valid < len(checks))
        if refused:
            # The rows' fresh problems are kept for the preview; nothing else changes.
            ImportRow.objects.bulk_update(changed, ["errors", "valid"], batch_size=500)
            batch.save(update_fields=["valid_rows", "updated_at"])
        else:
            created = create_lines(
                user=user, session=session, rows=[check for check in checks if check.valid]
            )
            batch.status = ImportBatch.Status.IMPORTED
            batch.policy = policy
            batch.imported_lines = len(created)
            batch.imported_at = timezone.now()
            batch.save()
    if refused:
        invalid = len(checks) - valid
        if not valid:
            raise ImportRefused(gettext("Nothing was imported: no row is valid yet."))
        raise ImportRefused(
            ngettext(
                "Nothing was imported: %(count)s row has a problem. Fix it, or import the "
                "valid rows only.",
                "Nothing was imported: %(count)s rows have a problem. Fix them, or import the "
                "valid rows only.",
                invalid,
            )
            % {"count": invalid}
        )
    return ImportResult(created=created, left_out=len(checks) - len(created))


def create_lines(*, user: User, session: OrderSession, rows: Iterable[RowCheck]) -> list[OrderLine]:
    """One draft line per row, through the drafts service (the step pages' write path),
    then one sync of the session for them all."""
    created = []
    for check in rows:
        line = drafts.add_line(user=user, session=session)
        created.append(
            drafts.save_line(
                user=user,
                line=line,
                data=check.line_data,
                contact_data=check.contact_data,
                version=line.version,
                title=IMPORT_TITLE,
                queue=False,
            )
        )
    if created:
        drafts.queue_sync(session)
    return created
