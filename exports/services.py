"""The only code that changes export jobs or asks Covage for exports.

The flow: ``request_export`` takes the account's window (Covage allows one export request per
5 minutes per user) and queues a job; ``start_export_job`` asks Covage to start it;
``poll_export_job`` reads its status until Covage says it is done, then streams the CSV to
storage. Tasks (exports/tasks.py) only call these and schedule what they return.

No database transaction is held across a call to Covage: on SQLite a writer locks the whole
file, and the sandbox (same database) would wait on us. Re-delivered tasks are made harmless
by claims taken with conditional UPDATEs before the Covage POST and before the download.

A job's error is stored as an English msgid with its values (ExportJob.error_params), since a
worker writes it in whatever language is active there: ExportJob.error_text puts it in the
reader's language. Covage's own errors stay in here; the tasks above meet none.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from covage.client import get_client
from covage.errors import (
    CovageAuthenticationError,
    CovageError,
    CovageNotFound,
    CovagePermissionDenied,
    CovageRateLimited,
    CovageUnavailable,
)
from covage.export_csv import copy_sessions
from exports import conf, dispatch
from exports.models import ExportGuard, ExportJob
from exports.signals import export_failed, export_stored
from exports.wording import format_moment, window_rule
from orders.models import OrderSession
from portal.roles import is_back_office

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("exports")

Status = ExportJob.Status
Trigger = ExportJob.Trigger


class ExportTooSoon(Exception):
    """The account's export window is taken: Covage would answer 429."""

    def __init__(self, *, next_allowed_at: datetime) -> None:
        self.next_allowed_at = next_allowed_at
        super().__init__(
            _(NEXT_EXPORT_AT) % {"rule": window_rule(), "when": format_moment(next_allowed_at)}
        )


@dataclass(frozen=True)
class NextStep:
    """What the calling task should schedule: the start again, or the next status poll."""

    task: Literal["start", "poll"]
    countdown: float
    poll_count: int = 0


# --- Wording ----------------------------------------------------------------------------------
# English msgids without values, or with "rule" (the export window, exports.wording) and
# "when" (a moment): stored on the job, translated when shown (ExportJob.error_text).

NEXT_EXPORT_AT = gettext_noop("%(rule)s Next export possible at %(when)s.")
ASKING_AGAIN_AT = gettext_noop("%(rule)s The portal will ask again at %(when)s.")
CREDENTIALS_REFUSED = gettext_noop(
    "Covage refused the portal's credentials (HTTP 401). An administrator must check the "
    "Covage user name and password the portal uses."
)
EXPORT_NOT_ALLOWED = gettext_noop(
    "Covage says the portal's account may not export order data (HTTP 403). Ask your "
    "administrator to have Covage grant it the export right."
)
EXPORT_NOT_KNOWN = gettext_noop(
    "Covage does not know this export any more (HTTP 404: task or file not found). Request a "
    "new export."
)
NO_ANSWER_IN_TIME = gettext_noop(
    "Covage did not answer in time; it may have started the export anyway, but the portal "
    "cannot tell. Request a new export in a few minutes."
)
UNREACHABLE = gettext_noop("Covage could not be reached. Try again in a few minutes.")
EXPORT_REFUSED = gettext_noop(
    "Covage refused the export. Try again later; if it happens again, tell your administrator."
)
LOST_TRACK = gettext_noop(
    "The portal lost track of this export while asking Covage to start it; Covage may have "
    "started it anyway. Request a new export."
)
TOO_LONG = gettext_noop(
    "Covage had not finished the export after the number of status checks allowed "
    "(%(count)s); the portal stopped waiting. Request a new export, or ask the back office to "
    "retry this one."
)
NO_FILE_PRODUCED = gettext_noop(
    "Covage could not produce the file: the export failed on Covage's side (success: false). "
    "Request a new export; if it fails again, contact Covage."
)


def explain_error(error: CovageError, *, account: str) -> tuple[str, str]:
    """The user-facing explanation of a Covage failure (a msgid) and its short code."""
    code = str(error.status) if error.status else type(error).__name__
    if isinstance(error, CovageAuthenticationError):
        return CREDENTIALS_REFUSED, "401"
    if isinstance(error, CovagePermissionDenied):
        return EXPORT_NOT_ALLOWED, "403"
    if isinstance(error, CovageNotFound):
        return EXPORT_NOT_KNOWN, "404"
    if isinstance(error, CovageUnavailable):
        if error.ambiguous:
            return NO_ANSWER_IN_TIME, "timeout"
        return UNREACHABLE, code if error.status else (error.reason or "unavailable")
    return EXPORT_REFUSED, code


def _rate_limited_error(until: datetime, *, retrying: bool) -> tuple[str, dict[str, Any]]:
    """The msgid and values of a job that met Covage's window."""
    return (ASKING_AGAIN_AT if retrying else NEXT_EXPORT_AT), {"when": until.isoformat()}


# --- Helpers ----------------------------------------------------------------------------------


def _account() -> str:
    return str(settings.COVAGE_USERNAME)


def _locked_guard(account: str) -> ExportGuard:
    """The guard row of ``account``, locked until the surrounding transaction ends."""
    ExportGuard.objects.get_or_create(account=account)
    return ExportGuard.objects.select_for_update().get(account=account)


_enqueue_start = dispatch.start_export
_enqueue_poll = dispatch.poll_export


def _fail(
    job: ExportJob,
    *,
    error: str,
    code: str,
    error_params: dict[str, Any] | None = None,
    status: str = Status.FAILED,
    retry_after_until: datetime | None = None,
) -> None:
    """End the job without a file; `error` is a msgid, with `error_params`."""
    job.status = status
    job.error = error
    job.error_params = error_params or {}
    job.error_code = code[:32]
    job.retry_after_until = retry_after_until
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "error",
            "error_params",
            "error_code",
            "retry_after_until",
            "finished_at",
        ]
    )
    logger.info("export job=%s ended status=%s code=%s", job.pk, status, code)
    export_failed.send(sender=ExportJob, job=job)


def _release_window(job: ExportJob) -> None:
    """Covage refused the request outright, so the window this job took is free again."""
    ExportGuard.objects.filter(account=job.covage_account, last_job=job).update(
        next_allowed_at=None
    )


def _extend_window(account: str, until: datetime) -> None:
    ExportGuard.objects.get_or_create(account=account)
    ExportGuard.objects.filter(account=account).filter(
        Q(next_allowed_at__isnull=True) | Q(next_allowed_at__lt=until)
    ).update(next_allowed_at=until)


# --- Reads used by views ----------------------------------------------------------------------


def next_export_allowed_at(
    *, account: str | None = None, now: datetime | None = None
) -> datetime | None:
    """When the account may request its next export, or None if it may now."""
    now = now or timezone.now()
    guard = ExportGuard.objects.filter(account=account or _account()).first()
    if guard and guard.next_allowed_at and guard.next_allowed_at > now:
        return guard.next_allowed_at
    return None


# --- Requesting -------------------------------------------------------------------------------


def request_export(
    *,
    user: User | None,
    trigger: str = Trigger.MANUAL,
    schedule_slot: str | None = None,
    now: datetime | None = None,
) -> ExportJob:
    """Queue an export and take the account's window.

    A manual request inside the window raises ExportTooSoon (nothing is created); a scheduled
    one is queued to start when the window opens. The start task is enqueued on commit.
    """
    now = now or timezone.now()
    account = _account()
    with transaction.atomic():
        guard = _locked_guard(account)
        taken_until = guard.next_allowed_at if guard.next_allowed_at else None
        if taken_until is not None and taken_until <= now:
            taken_until = None
        if taken_until is not None and trigger == Trigger.MANUAL:
            raise ExportTooSoon(next_allowed_at=taken_until)
        start_at = taken_until or now
        job = ExportJob.objects.create(
            requested_by=user,
            trigger=trigger,
            covage_account=account,
            requested_at=now,
            not_before=taken_until,
            schedule_slot=schedule_slot,
        )
        guard.next_allowed_at = start_at + conf.window()
        guard.last_job = job
        guard.save(update_fields=["next_allowed_at", "last_job"])
        countdown = (start_at - now).total_seconds()
        transaction.on_commit(lambda: _enqueue_start(job.pk, countdown))
    logger.info("export job=%s queued trigger=%s account=%s", job.pk, trigger, account)
    return job


def ensure_export_after(*, moment: datetime, now: datetime | None = None) -> ExportJob:
    """An export whose snapshot is taken after ``moment``, sharing the account's window with
    users' exports: an existing one if it qualifies, else a new one queued for when both the
    window and ``moment`` allow (the portal asks itself, nobody presses the button).

    A job that already holds a qualifying file is announced again (``export_stored``), so that
    whoever waits on it settles from it at once.
    """
    now = now or timezone.now()
    account = _account()
    with transaction.atomic():
        guard = _locked_guard(account)
        jobs = ExportJob.objects.filter(covage_account=account)
        started_after = Q(start_claimed_at__gte=moment)
        waiting_until_after = Q(start_claimed_at__isnull=True, task_id="") & (
            Q(not_before__gte=moment) | Q(not_before__isnull=True, requested_at__gte=moment)
        )
        active = jobs.filter(
            Q(status__in=ExportJob.ACTIVE_STATUSES)
            | Q(status=Status.RATE_LIMITED, finished_at__isnull=True)
        )
        pending = active.filter(started_after | waiting_until_after).first()
        if pending is not None:
            return pending
        stored = (
            jobs.filter(status=Status.SUCCEEDED, start_claimed_at__gte=moment)
            .exclude(file="")
            .order_by("-start_claimed_at")
            .first()
        )
        if stored is not None:
            transaction.on_commit(lambda: export_stored.send(sender=ExportJob, job=stored))
            return stored
        window_open = guard.next_allowed_at if guard.next_allowed_at else now
        start_at = max(window_open, moment, now)
        job = ExportJob.objects.create(
            requested_by=None,
            trigger=Trigger.SYSTEM,
            covage_account=account,
            requested_at=now,
            not_before=start_at if start_at > now else None,
        )
        guard.next_allowed_at = start_at + conf.window()
        guard.last_job = job
        guard.save(update_fields=["next_allowed_at", "last_job"])
        countdown = (start_at - now).total_seconds()
        transaction.on_commit(lambda: _enqueue_start(job.pk, countdown))
    logger.info("export job=%s queued by the portal, snapshot after %s", job.pk, moment)
    return job


def schedule_slot_for(*, period: str = "daily", now: datetime | None = None) -> str:
    """The period a scheduled run belongs to, in the portal's time zone."""
    local = timezone.localtime(now or timezone.now())
    if period == "hourly":
        return f"hourly:{local:%Y-%m-%dT%H}"
    if period == "weekly":
        year, week, _ = local.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    if period == "monthly":
        return f"monthly:{local:%Y-%m}"
    return f"daily:{local:%Y-%m-%d}"


def run_scheduled_export(*, slot: str) -> ExportJob | None:
    """Queue the scheduled export of ``slot`` unless that period already has one."""
    if ExportJob.objects.filter(schedule_slot=slot).exists():
        logger.info("scheduled export slot=%s already has a job", slot)
        return None
    try:
        return request_export(user=None, trigger=Trigger.SCHEDULED, schedule_slot=slot)
    except IntegrityError:
        # Beat fired twice at once: the other firing created the slot's job.
        logger.info("scheduled export slot=%s created concurrently", slot)
        return None


# --- Starting ---------------------------------------------------------------------------------


def start_export_job(*, job_id: int) -> NextStep | None:
    """Ask Covage to start the job's export (one POST, never repeated blindly).

    Returns what the task should schedule next, or None when there is nothing to do.
    """
    now = timezone.now()
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if job.not_before and job.not_before > now and not job.task_id:
        return NextStep("start", (job.not_before - now).total_seconds())
    claimed = ExportJob.objects.filter(
        pk=job_id,
        status__in=(Status.QUEUED, Status.RATE_LIMITED),
        start_claimed_at__isnull=True,
        task_id="",
    ).update(
        status=Status.RUNNING,
        start_claimed_at=now,
        start_attempts=F("start_attempts") + 1,
        error="",
        error_params={},
        error_code="",
        retry_after_until=None,
    )
    job.refresh_from_db()
    if not claimed:
        return _start_already_claimed(job, now=now)

    try:
        task_id = get_client().start_export()
    except CovageRateLimited as exc:
        return _start_rate_limited(job, exc)
    except CovageError as exc:
        text, code = explain_error(exc, account=job.covage_account)
        if not (isinstance(exc, CovageUnavailable) and exc.ambiguous):
            _release_window(job)
        _fail(job, error=text, code=code)
        return None

    ExportJob.objects.filter(pk=job.pk).update(task_id=task_id[:64], status=Status.RUNNING)
    logger.info("export job=%s started at Covage task=%s", job.pk, task_id)
    return NextStep("poll", conf.poll_delay(0), poll_count=0)


def _start_already_claimed(job: ExportJob, *, now: datetime) -> NextStep | None:
    if job.status == Status.RUNNING and job.task_id:
        # A re-delivered start: Covage has the export; make sure someone polls it (a
        # duplicate poll chain is dropped by the poll_count check).
        return NextStep("poll", conf.poll_delay(job.poll_count), poll_count=job.poll_count)
    stale = (
        job.start_claimed_at is not None and job.start_claimed_at < now - conf.start_stale_after()
    )
    if job.status == Status.RUNNING and not job.task_id and stale:
        # The worker died during the POST: Covage may have started an export we cannot
        # see. Asking again would be a second export (or a 429): say so instead.
        _fail(job, error=LOST_TRACK, code="lost")
    return None


def _start_rate_limited(job: ExportJob, exc: CovageRateLimited) -> NextStep | None:
    until = timezone.now() + timedelta(seconds=exc.retry_after)
    _extend_window(job.covage_account, until)
    unattended = job.trigger in (Trigger.SCHEDULED, Trigger.SYSTEM)
    retrying = unattended and job.start_attempts < conf.max_start_attempts()
    if retrying:
        # A scheduled or portal export has nobody to press the button again: ask again.
        job.status = Status.RATE_LIMITED
        job.error, job.error_params = _rate_limited_error(until, retrying=True)
        job.error_code = "429"
        job.retry_after_until = until
        job.not_before = until
        job.start_claimed_at = None
        job.save(
            update_fields=[
                "status",
                "error",
                "error_params",
                "error_code",
                "retry_after_until",
                "not_before",
                "start_claimed_at",
            ]
        )
        return NextStep("start", exc.retry_after)
    error, error_params = _rate_limited_error(until, retrying=False)
    _fail(
        job,
        status=Status.RATE_LIMITED,
        error=error,
        error_params=error_params,
        code="429",
        retry_after_until=until,
    )
    return None


# --- Polling and downloading ------------------------------------------------------------------


def poll_export_job(*, job_id: int, expected_poll: int | None = None) -> bool | None:
    """Read the export's status once; download the file when Covage says it is ready.

    Returns True when the file is stored, False when there is nothing more to poll (the job
    ended without a file, or another delivery already made this poll), None to poll again
    (see ``next_poll``).
    """
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None:
        return False
    if job.status == Status.SUCCEEDED:
        return True
    if job.status != Status.RUNNING or not job.task_id:
        return False
    if expected_poll is not None and job.poll_count != expected_poll:
        return False
    if job.poll_count >= conf.max_polls():
        _fail(job, error=TOO_LONG, error_params={"count": job.poll_count}, code="too_long")
        return False
    claimed = ExportJob.objects.filter(
        pk=job.pk, status=Status.RUNNING, poll_count=job.poll_count
    ).update(poll_count=F("poll_count") + 1)
    if not claimed:
        return False
    job.refresh_from_db()

    try:
        status = get_client().export_status(job.task_id)
    except CovageRateLimited as exc:
        _note_retry_after(job, exc)
        return None
    except CovageUnavailable as exc:
        logger.warning("export job=%s status check failed: %s", job.pk, exc)
        return None
    except CovageError as exc:
        text, code = explain_error(exc, account=job.covage_account)
        _fail(job, error=text, code=code)
        return False

    job.started_at = status.started or job.started_at
    job.stopped_at = status.stopped or job.stopped_at
    job.retry_after_until = None
    job.save(update_fields=["started_at", "stopped_at", "retry_after_until"])
    if status.success is None:
        return None
    if status.success is False:
        _fail(job, error=NO_FILE_PRODUCED, code="success_false")
        return False
    return _download(job)


def _note_retry_after(job: ExportJob, exc: CovageRateLimited) -> None:
    job.retry_after_until = timezone.now() + timedelta(seconds=exc.retry_after)
    job.save(update_fields=["retry_after_until"])


def next_poll(*, job_id: int) -> NextStep | None:
    """When to poll again: the backoff, or later if Covage asked us to wait."""
    job = ExportJob.objects.filter(pk=job_id, status=Status.RUNNING).first()
    if job is None:
        return None
    delay = conf.poll_delay(job.poll_count)
    if job.retry_after_until:
        wait = (job.retry_after_until - timezone.now()).total_seconds()
        delay = max(delay, wait)
    return NextStep("poll", min(delay, conf.max_countdown()), poll_count=job.poll_count)


class _DownloadedFile(File):
    """A finished temporary file: FileSystemStorage moves it into place instead of copying."""

    def __init__(self, handle: Any, path: str) -> None:
        super().__init__(handle, name=os.path.basename(path))
        self._temporary_path = path

    def temporary_file_path(self) -> str:
        return self._temporary_path


def _partial_dir(storage: Storage) -> str | None:
    """A folder on the storage's own disk (the final move is then a rename), if it has one."""
    try:
        folder = Path(storage.path("exports/partial"))
    except NotImplementedError:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    # Half-written exports hold personal data too: the portal's user only.
    for part in (folder, folder.parent):
        part.chmod(0o700)
    return str(folder)


class CsvRowCounter:
    """Counts CSV records in bytes as they stream past, without parsing fields: a line break
    ends a record only outside double quotes (an escaped ``""`` toggles twice, so it is
    neutral). Works chunk by chunk at C speed, so the download is not slowed down."""

    def __init__(self) -> None:
        self.line_breaks = 0
        self.in_quotes = False
        self.last_byte = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if b'"' not in chunk:
            if not self.in_quotes:
                self.line_breaks += chunk.count(b"\n")
        else:
            for part in chunk.split(b'"'):
                if not self.in_quotes:
                    self.line_breaks += part.count(b"\n")
                self.in_quotes = not self.in_quotes
            # split() gives one part more than there are quotes: undo the last toggle.
            self.in_quotes = not self.in_quotes
        self.last_byte = chunk[-1:]

    @property
    def data_rows(self) -> int:
        """Records after the header line."""
        records = self.line_breaks + (1 if self.last_byte not in (b"", b"\n") else 0)
        return max(records - 1, 0)


class _CountingWriter:
    """The destination handed to the client: writes through and counts rows on the way."""

    def __init__(self, handle: Any, counter: CsvRowCounter) -> None:
        self._handle = handle
        self._counter = counter

    def write(self, chunk: bytes) -> int:
        self._counter.feed(chunk)
        return int(self._handle.write(chunk))

    def flush(self) -> None:
        self._handle.flush()


def count_csv_rows(path: str | os.PathLike[str]) -> int:
    """Data rows of a CSV file (header excluded), read in chunks."""
    counter = CsvRowCounter()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            counter.feed(chunk)
    return counter.data_rows


def _download(job: ExportJob) -> bool | None:
    now = timezone.now()
    claimed = (
        ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING)
        .filter(
            Q(download_claimed_at__isnull=True)
            | Q(download_claimed_at__lt=now - conf.download_stale_after())
        )
        .update(download_claimed_at=now)
    )
    if not claimed:
        return None  # another delivery is downloading; the next poll sees its result

    storage = job.file.storage
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, moved by storage
        prefix=f"export-{job.pk}-", suffix=".part", dir=_partial_dir(storage), delete=False
    )
    temporary_path = handle.name
    counter = CsvRowCounter()
    try:
        try:
            with handle:
                size = get_client().download_export(job.task_id, _CountingWriter(handle, counter))
        except CovageRateLimited as exc:
            _note_retry_after(job, exc)
            ExportJob.objects.filter(pk=job.pk).update(download_claimed_at=None)
            return None
        except CovageUnavailable as exc:
            logger.warning("export job=%s download failed: %s", job.pk, exc)
            ExportJob.objects.filter(pk=job.pk).update(download_claimed_at=None)
            return None
        except CovageError as exc:
            text, code = explain_error(exc, account=job.covage_account)
            _fail(job, error=text, code=code)
            return False
        rows = counter.data_rows
        owner_rows = _cut_owner_file(job, temporary_path)
        with open(temporary_path, "rb") as stored:
            downloaded = _DownloadedFile(stored, temporary_path)
            job.file.save(job.download_filename, downloaded, save=False)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary_path)

    finished = timezone.now()
    job.status = Status.SUCCEEDED
    job.size_bytes = size
    job.row_count = rows
    job.owner_row_count = owner_rows
    job.finished_at = finished
    job.expires_at = finished + conf.retention()
    job.error = ""
    job.error_params = {}
    job.error_code = ""
    job.save(
        update_fields=[
            "status",
            "file",
            "size_bytes",
            "row_count",
            "owner_file",
            "owner_row_count",
            "finished_at",
            "expires_at",
            "error",
            "error_params",
            "error_code",
        ]
    )
    logger.info("export job=%s stored bytes=%d rows=%d", job.pk, size, rows)
    export_stored.send(sender=ExportJob, job=job)
    return True


def _cut_owner_file(job: ExportJob, full_path: str) -> int | None:
    """A salesperson's export holds the rows of their own sessions only (contacts are
    personal data): cut them from the account-wide file into ``owner_file``. None when the
    requester sees every session (back office) or nobody asked (scheduled, portal checks)."""
    user = job.requested_by
    if user is None or is_back_office(user):
        return None
    own = set(
        OrderSession.objects.filter(owner=user)
        .exclude(covage_id="")
        .values_list("covage_id", flat=True)
    )
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, moved by storage
        mode="w",
        encoding="utf-8",
        newline="",
        prefix=f"export-{job.pk}-own-",
        suffix=".part",
        dir=os.path.dirname(full_path),
        delete=False,
    )
    try:
        with handle:
            rows = copy_sessions(full_path, handle, own)
        with open(handle.name, "rb") as stored:
            job.owner_file.save(
                job.download_filename, _DownloadedFile(stored, handle.name), save=False
            )
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
    return rows


def file_for(job: ExportJob, user: User) -> Any:
    """The file ``user`` may download for ``job``: the account-wide one for the back office,
    their own rows for a salesperson (None when there is none)."""
    if is_back_office(user):
        return job.file or None
    return job.owner_file or None


# --- Housekeeping and the back office ---------------------------------------------------------


def purge_expired_exports(*, now: datetime | None = None) -> int:
    """Delete the files of expired exports (the jobs stay, as history). Returns how many."""
    now = now or timezone.now()
    purged = 0
    expired = ExportJob.objects.filter(expires_at__lte=now).exclude(file="", owner_file="")
    for job in expired.iterator():
        job.file.delete(save=False)
        job.owner_file.delete(save=False)
        job.save(update_fields=["file", "owner_file"])
        purged += 1
    purged += _purge_abandoned_partials(now)
    if purged:
        logger.info("purged %d expired export files", purged)
    return purged


def _purge_abandoned_partials(now: datetime) -> int:
    """Half-written downloads of a worker that died: older than a download may take, they
    are nobody's any more."""
    folder = _partial_dir(ExportJob._meta.get_field("file").storage or default_storage)
    if folder is None:
        return 0
    cutoff = (now - conf.download_stale_after()).timestamp()
    removed = 0
    for part in Path(folder).glob("*.part"):
        if part.stat().st_mtime < cutoff:
            part.unlink(missing_ok=True)
            removed += 1
    return removed


_RESTARTS_AT_COVAGE = {"success_false", "404", "lost", "timeout"}


def retry_export_job(*, job_id: int) -> ExportJob:
    """Run a finished job again (admin action). If Covage still has its task, poll it again;
    otherwise ask Covage for a new export, waiting for the account's window if needed."""
    now = timezone.now()
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.is_active or job.is_downloadable:
            return job
        resume = bool(job.task_id) and job.error_code not in _RESTARTS_AT_COVAGE
        if job.status == Status.SUCCEEDED:
            resume = False  # expired file: a fresh export
        if job.file:
            job.file.delete(save=False)
        job.error = ""
        job.error_params = {}
        job.error_code = ""
        job.retry_after_until = None
        job.finished_at = None
        job.expires_at = None
        job.poll_count = 0
        job.download_claimed_at = None
        job.size_bytes = None
        job.row_count = None
        if resume:
            job.status = Status.RUNNING
            job.save()
            transaction.on_commit(lambda: _enqueue_poll(job.pk, 0, 0.0))
            return job
        guard = _locked_guard(job.covage_account)
        taken_until = guard.next_allowed_at
        start_at = taken_until if taken_until and taken_until > now else now
        job.status = Status.QUEUED
        job.task_id = ""
        job.started_at = None
        job.stopped_at = None
        job.start_claimed_at = None
        job.start_attempts = 0
        job.not_before = start_at if start_at > now else None
        job.save()
        guard.next_allowed_at = start_at + conf.window()
        guard.last_job = job
        guard.save(update_fields=["next_allowed_at", "last_job"])
        countdown = (start_at - now).total_seconds()
        transaction.on_commit(lambda: _enqueue_start(job.pk, countdown))
    return job
