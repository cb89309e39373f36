"""In-app notifications and each user's choice of what reaches them by e-mail.

A notification stores language-neutral data (its kind and parameters) and is put into words
when shown, in the reader's language, as the orders' history is. `key` names the event it
tells of: one notification per user and event, however many times the event is recorded or
its signal re-sent.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    LINE_REJECTED = "line_rejected", _("A line rejected by Covage")
    SESSION_FINAL = "session_final", _("A session decided by Covage")
    ORDER_DELIVERED = "order_delivered", _("An order delivered")
    EXPORT_READY = "export_ready", _("An export ready")
    EXPORT_FAILED = "export_failed", _("An export failed")
    NEEDS_ATTENTION = "needs_attention", _("A session needing attention")


# The sentence of each kind; its placeholders are the notification's `params`.
MESSAGES: dict[str, Promise] = {
    Kind.LINE_REJECTED: _("Covage rejected line %(position)s of session %(session)s."),
    Kind.SESSION_FINAL: _("Covage decided session %(session)s: %(state)s."),
    Kind.ORDER_DELIVERED: _("Order %(order)s (session %(session)s) is delivered."),
    Kind.EXPORT_READY: _("Export #%(number)s is ready to download."),
    Kind.EXPORT_FAILED: _("Export #%(number)s failed."),
    Kind.NEEDS_ATTENTION: _("Session %(session)s needs attention: the portal stopped trying."),
}


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", _("At once, one e-mail per event")
    HOURLY = "hourly", _("One digest per hour")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # The event told of, e.g. "line_rejected:42": unique per user (idempotency).
    key = models.CharField(_("event key"), max_length=120)
    # What it links to (whichever applies).
    session = models.ForeignKey(
        "orders.OrderSession", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    export_job = models.ForeignKey(
        "exports.ExportJob", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # E-mail: due when the user's preferences asked for it at creation; `emailed_at` is set
    # in the same transaction as the sending, so a re-delivered task sends nothing twice.
    email_due = models.BooleanField(_("to be e-mailed"), default=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="unique_notification_per_event")
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["email_due", "emailed_at"], name="notification_email_idx"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The sentence in the active language (a parameter that does not fit is left out
        rather than fail)."""
        message = MESSAGES.get(self.kind)
        if message is None:
            return self.kind
        params: dict[str, Any] = dict(self.params or {})
        if "state" in params:
            params["state"] = gettext(str(params["state"]))
        try:
            return str(message) % params
        except (KeyError, TypeError, ValueError):
            return str(self.get_kind_display())

    @property
    def url(self) -> str:
        if self.line_id and self.session_id:
            return reverse("orders:line", args=[self.session_id, self.line_id])
        if self.session_id:
            return reverse("orders:session", args=[self.session_id])
        if self.export_job_id:
            return reverse("exports:list")
        return reverse("notifications:list")


def default_email_kinds() -> list[str]:
    return [kind.value for kind in Kind]


def default_language() -> str:
    return str(settings.LANGUAGE_CODE)


class NotificationPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    email_kinds = models.JSONField(_("events e-mailed"), default=default_email_kinds, blank=True)
    frequency = models.CharField(
        _("e-mails"), max_length=10, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    language = models.CharField(
        _("language of the e-mails"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=default_language,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return gettext("Notifications of %(user)s") % {"user": self.user}

    def emails(self, kind: str) -> bool:
        return kind in (self.email_kinds or [])
