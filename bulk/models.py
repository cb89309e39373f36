"""An upload waiting to become lines: its rows as read, each row's problems, and what
happened to it. Nothing here is an order line until the user confirms the import."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import OrderSession


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        READING = "reading", _("Being read")
        READY = "ready", _("Ready to import")
        FAILED = "failed", _("Could not be read")
        IMPORTED = "imported", _("Imported")
        CANCELLED = "cancelled", _("Cancelled")

    class Policy(models.TextChoices):
        ALL_OR_NONE = "all", _("All rows, or none if any row has a problem")
        VALID_ONLY = "valid", _("The valid rows only")

    session = models.ForeignKey(
        OrderSession,
        on_delete=models.CASCADE,
        related_name="import_batches",
        verbose_name=_("session"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("sent by")
    )
    file_name = models.CharField(_("file"), max_length=255)
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    # The same file sent twice into a session is recognised by its content's SHA-256.
    digest = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    # The file's bytes until it is read (by a worker when it is large), then emptied: kept in
    # the database, so that a worker on another machine reads it without a shared disk.
    content = models.BinaryField(null=True, blank=True, editable=False)
    # The language of the person who sent it: the messages of its rows are written in it.
    language = models.CharField(max_length=8, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.READING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    # The field each column holds (None: not one of ours), and the headings not recognised.
    columns = models.JSONField(default=list, blank=True)
    unknown_columns = models.JSONField(default=list, blank=True)
    missing_columns = models.JSONField(default=list, blank=True)
    skipped_example = models.BooleanField(default=False)
    # Why the file could not be read, in `language`.
    error = models.TextField(_("error"), blank=True)
    policy = models.CharField(_("import policy"), max_length=8, choices=Policy.choices, blank=True)
    imported_lines = models.PositiveIntegerField(_("lines created"), default=0)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("import from a sheet")
        verbose_name_plural = _("imports from sheets")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return round(100 * self.processed_rows / self.total_rows)

    @property
    def invalid_rows(self) -> int:
        return self.total_rows - self.valid_rows


class ImportRow(models.Model):
    """One row of an upload, as read (its cells as text, by field name), with its problems.

    A row of its own rather than one JSON list on the batch: the preview pages through a
    5,000-row upload, and fixing a cell rewrites one row, not the whole upload."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="sheet_rows")
    # The row's place in the preview (from 0) and its number in the file.
    index = models.PositiveIntegerField()
    number = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    # {field: [messages]} ("" for the row as a whole), in the batch's language.
    errors = models.JSONField(default=dict, blank=True)
    valid = models.BooleanField(default=False)

    class Meta:
        ordering = ["batch", "index"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "index"], name="unique_import_row_index")
        ]

    def __str__(self) -> str:
        return f"{self.batch} #{self.number}"
