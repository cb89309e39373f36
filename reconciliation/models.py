"""Differences between Covage's CSV export and the portal's records, and the comparisons made.

Nothing translated is stored (reconciliation.texts): a worker has no reader, and a difference is
read by people in their own language. ``field_label``, ``resolution_text`` and ``error_text``
are written in the active language when shown.

A difference is found by comparing one export; the same difference found again by a later
export is the same row (``key`` names it), so the back office sees one entry per problem,
with when it was first and last seen. Covage is the source of truth for states: a state
difference is applied at once and kept as a record (status ``applied``); every other
difference waits for a person (``open``) until it is resolved, dismissed with a reason, or no
longer found in a newer export (``gone``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from reconciliation import texts


class Difference(models.Model):
    class Kind(models.TextChoices):
        UNKNOWN_AT_PORTAL = "unknown_at_portal", _("At Covage, unknown to the portal")
        MISSING_AT_COVAGE = "missing_at_covage", _("In the portal, missing at Covage")
        STATE = "state", _("Different state")
        VALUE = "value", _("Different value")

    class Status(models.TextChoices):
        OPEN = "open", _("To resolve")
        APPLIED = "applied", _("Applied (Covage's state)")
        RESOLVED = "resolved", pgettext_lazy("difference status", "Resolved")
        DISMISSED = "dismissed", pgettext_lazy("difference status", "Dismissed")
        GONE = "gone", _("No longer found")

    export_job = models.ForeignKey(
        "exports.ExportJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="differences",
        verbose_name=_("export"),
        help_text=_("The latest export in which the difference was found."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    # What the difference is about, so that the same one found again updates this row:
    # "<kind>:<session|line>:<Covage id>[:<field>]" (a state also names its export).
    key = models.CharField(max_length=255, db_index=True, editable=False)

    session = models.ForeignKey(
        "orders.OrderSession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="differences",
        verbose_name=_("portal session"),
    )
    line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="differences",
        verbose_name=_("portal line"),
    )
    covage_session_id = models.CharField(_("Covage session id"), max_length=64, blank=True)
    covage_line_id = models.CharField(_("Covage line id"), max_length=64, blank=True)
    external_id = models.CharField(_("external id"), max_length=255, blank=True)
    # The export column (wire name: "note", "contact_city", ...), blank when the difference
    # is about a whole session or line; labelled in the reader's language (``field_label``).
    field = models.CharField(_("column"), max_length=64, blank=True)
    portal_value = models.TextField(_("in the portal"), blank=True)
    covage_value = models.TextField(_("at Covage"), blank=True)

    # A dismissal's reason as typed; otherwise the English text of ``resolution_code`` (what
    # the portal did, with ``resolution_params``), which is shown in the reader's language.
    resolution = models.TextField(
        _("resolution"), blank=True, help_text=_("What was done, or why it was dismissed.")
    )
    resolution_code = models.CharField(max_length=32, blank=True, editable=False)
    resolution_params = models.JSONField(default=dict, blank=True, editable=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    # The start of the newest export that found it: a difference not found by an export
    # started later is gone (exports compared out of order never bring one back).
    seen_in_export_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-last_seen", "-pk"]
        verbose_name = _("difference")
        verbose_name_plural = _("differences")
        constraints = [
            # One open entry per problem, even when two comparisons run at once.
            models.UniqueConstraint(
                fields=["key"], condition=Q(status="open"), name="unique_open_difference"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "kind", "-last_seen"], name="difference_page"),
            models.Index(fields=["kind", "-last_seen"], name="difference_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def about_line(self) -> bool:
        return bool(self.covage_line_id) or self.line_id is not None

    @property
    def subject(self) -> str:
        """The session or line concerned, in a few words."""
        if self.about_line:
            if self.line is not None:
                return str(self.line)
            return gettext("Covage line %(id)s") % {"id": self.covage_line_id}
        if self.session is not None:
            return str(self.session)
        return self.external_id or self.covage_session_id

    @property
    def field_label(self) -> str:
        """The compared column's label, in the active language ("" for a whole session or
        line)."""
        if not self.field:
            return ""
        if self.kind == self.Kind.STATE:
            return gettext(texts.COVAGE_STATE)
        return texts.column_label(self.field)

    @property
    def resolution_text(self) -> str:
        """What was done, in the active language; a dismissal's reason as it was typed. A link
        names the line or session as it reads now."""
        params = dict(self.resolution_params or {})
        if self.resolution_code == texts.LINKED_LINE and self.line is not None:
            params["line"] = str(self.line)
        elif self.resolution_code == texts.LINKED_SESSION and self.session is not None:
            params["session"] = str(self.session)
        return texts.render(texts.RESOLUTIONS, self.resolution_code, params, self.resolution)


class Comparison(models.Model):
    """One export compared with the portal's records (again, when its file is announced
    again): when, and what was found."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("comparison status", "Running")
        DONE = "done", pgettext_lazy("comparison status", "Done")
        # Settled from, but not compared: a newer export had been compared already.
        SUPERSEDED = "superseded", _("Superseded by a newer export")
        FAILED = "failed", pgettext_lazy("comparison status", "Failed")

    export_job = models.OneToOneField(
        "exports.ExportJob",
        on_delete=models.CASCADE,
        related_name="comparison",
        verbose_name=_("export"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    export_started_at = models.DateTimeField(_("export started"), null=True, blank=True)
    started_at = models.DateTimeField(_("compared at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    runs = models.PositiveSmallIntegerField(_("times compared"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("export comparison")
        verbose_name_plural = _("export comparisons")

    def __str__(self) -> str:
        return gettext("Comparison of export #%(job)s") % {"job": self.export_job_id}

    @property
    def error_text(self) -> str:
        """Why the comparison failed, in the active language (its code is in the summary)."""
        summary = self.summary or {}
        return texts.render(
            texts.COMPARISON_ERRORS,
            summary.get("error_code", ""),
            summary.get("error_params"),
            self.error,
        )

    @property
    def counts(self) -> list[dict[str, object]]:
        """Per kind: its label, how many differences were found, how many were new, and how
        many were left out past the cap (from ``summary``)."""
        found = self.summary.get("found", {})
        new = self.summary.get("new", {})
        left_out = self.summary.get("not_recorded", {})
        return [
            {
                "kind": kind,
                "label": label,
                "found": found.get(kind, 0),
                "new": new.get(kind, 0),
                "not_recorded": left_out.get(kind, 0),
            }
            for kind, label in Difference.Kind.choices
        ]
