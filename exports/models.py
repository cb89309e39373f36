"""CSV export jobs: one row per export asked of Covage, and the per-account request guard."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from exports.wording import format_moment, window_rule


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("export status", "Queued")
        RUNNING = "running", pgettext_lazy("export status", "Running")
        SUCCEEDED = "succeeded", pgettext_lazy("export status", "Ready")
        FAILED = "failed", pgettext_lazy("export status", "Failed")
        RATE_LIMITED = "rate_limited", pgettext_lazy("export status", "Rate limited")

    class Trigger(models.TextChoices):
        MANUAL = "manual", pgettext_lazy("export trigger", "Manual")
        SCHEDULED = "scheduled", pgettext_lazy("export trigger", "Scheduled")
        # Asked by the portal itself to settle an outcome from Covage's documented record.
        SYSTEM = "system", pgettext_lazy("export trigger", "Portal check")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="export_jobs",
        verbose_name=_("requested by"),
        help_text=_("Empty for scheduled exports."),
    )
    trigger = models.CharField(
        _("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL
    )
    covage_account = models.CharField(
        _("Covage account"),
        max_length=150,
        help_text=_("The Covage user name the export was requested with."),
    )
    task_id = models.CharField(_("Covage task id"), max_length=64, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    # When the start task may call Covage: later than requested_at when the window is taken.
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    started_at = models.DateTimeField(_("started (Covage)"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped (Covage)"), null=True, blank=True)
    finished_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="exports/", blank=True, max_length=255)
    # What a salesperson downloads: the rows of their own sessions only, cut from ``file``
    # (the account-wide file, for the back office and the portal's reconciliation).
    owner_file = models.FileField(
        _("file of the requester's sessions"), upload_to="exports/", blank=True, max_length=255
    )
    owner_row_count = models.PositiveIntegerField(
        _("rows of the requester's sessions"), null=True, blank=True
    )
    size_bytes = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    # What went wrong: an English msgid, and its values in `error_params` (a moment as an ISO
    # date), put together in the reader's language by `error_text`. Workers write it, in
    # whatever language is active there.
    error = models.TextField(
        _("error"), blank=True, help_text=_("What went wrong, in words for the user.")
    )
    error_params = models.JSONField(_("error parameters"), default=dict, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    retry_after_until = models.DateTimeField(_("Covage asked to wait until"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, db_index=True)
    poll_count = models.PositiveIntegerField(_("status checks"), default=0)
    start_attempts = models.PositiveSmallIntegerField(_("start attempts"), default=0)
    # Claims that make re-delivered tasks harmless: set before the Covage POST and before
    # the download, so that a second delivery sees the work is taken.
    start_claimed_at = models.DateTimeField(_("start claimed at"), null=True, blank=True)
    download_claimed_at = models.DateTimeField(_("download claimed at"), null=True, blank=True)
    schedule_slot = models.CharField(
        _("schedule slot"),
        max_length=40,
        null=True,
        blank=True,
        unique=True,
        help_text=_("The schedule period of a scheduled export: one job per period."),
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-requested_at"])]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return gettext("Export #%(number)s (%(status)s)") % {
            "number": self.pk,
            "status": self.get_status_display(),
        }

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
            return gettext("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
        if minutes:
            return gettext("%(minutes)d min %(seconds)02d s") % {
                "minutes": minutes,
                "seconds": seconds,
            }
        return gettext("%(seconds)d s") % {"seconds": seconds}

    @property
    def error_text(self) -> str:
        """`error` in the reader's language, with its values: a moment (``when``) in the
        reader's format, the account's export window (``rule``) as it is now."""
        if not self.error:
            return ""
        params = dict(self.error_params or {})
        if not params:
            return gettext(self.error)
        when = parse_datetime(str(params.get("when", "")))
        if when is not None:
            params["when"] = format_moment(when)
        params.setdefault("rule", window_rule())
        try:
            return gettext(self.error) % params
        except (KeyError, TypeError, ValueError):
            return self.error

    @property
    def download_filename(self) -> str:
        moment = timezone.localtime(self.finished_at or self.requested_at)
        return f"covage-export-{moment:%Y-%m-%d-%H%M}.csv"


class ExportGuard(models.Model):
    """One row per Covage account; locked with select_for_update so that two simultaneous
    requests make one Covage call. Covage allows one export per window per user."""

    account = models.CharField(_("Covage account"), max_length=150, unique=True)
    next_allowed_at = models.DateTimeField(_("next export allowed at"), null=True, blank=True)
    last_job = models.ForeignKey(
        ExportJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last export"),
    )

    class Meta:
        verbose_name = _("export window")
        verbose_name_plural = _("export windows")

    def __str__(self) -> str:
        return gettext("Export window of %(account)s") % {"account": self.account}
