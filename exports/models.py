"""CSV export jobs: one row per export asked of Covage, and the per-account request guard."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"
        RATE_LIMITED = "rate_limited", "Rate limited"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual"
        SCHEDULED = "scheduled", "Scheduled"
        # Asked by the portal itself to settle an outcome from Covage's documented record.
        SYSTEM = "system", "Portal check"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="export_jobs",
        help_text="Empty for scheduled exports.",
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    covage_account = models.CharField(
        max_length=150, help_text="The Covage user name the export was requested with."
    )
    task_id = models.CharField("Covage task id", max_length=64, blank=True, db_index=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When the start task may call Covage: later than requested_at when the window is taken.
    not_before = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField("started (Covage)", null=True, blank=True)
    stopped_at = models.DateTimeField("stopped (Covage)", null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="exports/", blank=True, max_length=255)
    # What a salesperson downloads: the rows of their own sessions only, cut from ``file``
    # (the account-wide file, for the back office and the portal's reconciliation).
    owner_file = models.FileField(upload_to="exports/", blank=True, max_length=255)
    owner_row_count = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="What went wrong, in words for the user.")
    error_code = models.CharField(max_length=32, blank=True)
    retry_after_until = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    poll_count = models.PositiveIntegerField(default=0)
    start_attempts = models.PositiveSmallIntegerField(default=0)
    # Claims that make re-delivered tasks harmless: set before the Covage POST and before
    # the download, so that a second delivery sees the work is taken.
    start_claimed_at = models.DateTimeField(null=True, blank=True)
    download_claimed_at = models.DateTimeField(null=True, blank=True)
    schedule_slot = models.CharField(
        max_length=40,
        null=True,
        blank=True,
        unique=True,
        help_text="The schedule period of a scheduled export: one job per period.",
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-requested_at"])]

    def __str__(self) -> str:
        return f"Export #{self.pk} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        """Still moving: queued, running, or a scheduled export waiting out a 429."""
        if self.status == self.Status.RATE_LIMITED:
            return self.finished_at is None
        return self.status in self.ACTIVE_STATUSES

    @property
    def is_downloadable(self) -> bool:
        return (
            self.status == self.Status.SUCCEEDED
            and bool(self.file)
            and (self.expires_at is None or self.expires_at > timezone.now())
        )

    @property
    def elapsed(self) -> timedelta:
        end = self.finished_at or timezone.now()
        return max(end - self.requested_at, timedelta(0))

    @property
    def elapsed_text(self) -> str:
        seconds = int(self.elapsed.total_seconds())
        hours, rest = divmod(seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours:
            return f"{hours} h {minutes:02d} min"
        if minutes:
            return f"{minutes} min {seconds:02d} s"
        return f"{seconds} s"

    @property
    def download_filename(self) -> str:
        moment = timezone.localtime(self.finished_at or self.requested_at)
        return f"covage-export-{moment:%Y-%m-%d-%H%M}.csv"


class ExportGuard(models.Model):
    """One row per Covage account; locked with select_for_update so that two simultaneous
    requests make one Covage call. Covage allows one export per window per user."""

    account = models.CharField(max_length=150, unique=True)
    next_allowed_at = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey(
        ExportJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Export window of {self.account}"
