"""State of the simulated Covage API, kept in the database so that a demo survives a restart.

The admin's labels are translated; the values are Covage's own (states, ids, paths).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SandboxAccount(models.Model):
    """A service account known to the sandbox; its row is the per-account lock."""

    username = models.CharField(_("user name"), max_length=150, unique=True)
    last_export_at = models.DateTimeField(_("last export"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox account")
        verbose_name_plural = _("sandbox accounts")

    def __str__(self) -> str:
        return self.username


class SandboxToken(models.Model):
    ACCESS = "access"
    REFRESH = "refresh"
    KIND_CHOICES = [(ACCESS, "access"), (REFRESH, "refresh")]

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    # Only a hash is stored: a database dump does not hand out working tokens.
    token_hash = models.CharField(max_length=64, unique=True)
    session_state = models.CharField(max_length=36)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} token of {self.account}"


class ProductOrder(models.Model):
    """An order session (`/api/v1/product_order`)."""

    uid = models.UUIDField(_("Covage id"), default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        SandboxAccount,
        on_delete=models.CASCADE,
        related_name="product_orders",
        verbose_name=_("account"),
    )
    external_id = models.CharField(_("external id"), max_length=255, blank=True, db_index=True)
    project_id = models.CharField(_("project id"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=32, default="created", db_index=True)
    creation_date = models.DateTimeField(_("creation date"), default=timezone.now)
    order_date = models.DateTimeField(_("order date"), null=True, blank=True)
    completion_date = models.DateTimeField(_("completion date"), null=True, blank=True)
    cancellation_date = models.DateTimeField(_("cancellation date"), null=True, blank=True)

    class Meta:
        ordering = ["creation_date", "pk"]
        verbose_name = _("order session (product order)")
        verbose_name_plural = _("order sessions (product orders)")

    def __str__(self) -> str:
        return str(self.uid)


class ProductOrderItem(models.Model):
    """An order line; once created at Covage it is also an order (tracking API)."""

    uid = models.UUIDField(_("Covage id"), default=uuid.uuid4, unique=True, editable=False)
    product_order = models.ForeignKey(
        ProductOrder,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("order session (product order)"),
    )
    # The client's fields, normalised to the tables' spelling (see payloads.py).
    data = models.JSONField(default=dict)
    state = models.CharField(_("state"), max_length=32, default="created")
    state_change = models.JSONField(default=list)
    termination_error = models.JSONField(default=list)
    order_reference = models.CharField(
        _("order reference"), max_length=32, blank=True, db_index=True
    )
    temporary_reference = models.CharField(_("temporary reference"), max_length=64, blank=True)
    building_ref = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    order_date = models.DateTimeField(null=True, blank=True)
    completion_date = models.DateTimeField(null=True, blank=True)
    cancellation_date = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(max_length=255, blank=True)
    # When the order was created at Covage: the clock of the tracking steps.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("order line (product order item)")
        verbose_name_plural = _("order lines (product order items)")

    def __str__(self) -> str:
        return self.temporary_reference or str(self.uid)


class ExportTask(models.Model):
    uid = models.UUIDField(_("Covage id"), default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        SandboxAccount,
        on_delete=models.CASCADE,
        related_name="export_tasks",
        verbose_name=_("account"),
    )
    started = models.DateTimeField(_("started"), default=timezone.now)
    # Decided at creation so that polling gives one stable answer.
    will_fail = models.BooleanField(_("will fail"), default=False)

    class Meta:
        verbose_name = _("export task")
        verbose_name_plural = _("export tasks")

    def __str__(self) -> str:
        return str(self.uid)


class SandboxCall(models.Model):
    """Every request the sandbox received, faulted ones included (tests count them)."""

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    account = models.CharField(_("account"), max_length=150, blank=True)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    status = models.PositiveSmallIntegerField(_("HTTP status"))
    duration_ms = models.FloatField(_("duration (ms)"))

    class Meta:
        ordering = ["time", "pk"]
        verbose_name = _("API call received")
        verbose_name_plural = _("API calls received")

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
