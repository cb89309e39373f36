"""State of the simulated Covage API, kept in the database so that a demo survives a restart."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class SandboxAccount(models.Model):
    """A service account known to the sandbox; its row is the per-account lock."""

    username = models.CharField(max_length=150, unique=True)
    last_export_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

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

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        SandboxAccount, on_delete=models.CASCADE, related_name="product_orders"
    )
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    project_id = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=32, default="created", db_index=True)
    creation_date = models.DateTimeField(default=timezone.now)
    order_date = models.DateTimeField(null=True, blank=True)
    completion_date = models.DateTimeField(null=True, blank=True)
    cancellation_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["creation_date", "pk"]

    def __str__(self) -> str:
        return str(self.uid)


class ProductOrderItem(models.Model):
    """An order line; once created at Covage it is also an order (tracking API)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    product_order = models.ForeignKey(ProductOrder, on_delete=models.CASCADE, related_name="items")
    # The client's fields, normalised to the tables' spelling (see payloads.py).
    data = models.JSONField(default=dict)
    state = models.CharField(max_length=32, default="created")
    state_change = models.JSONField(default=list)
    termination_error = models.JSONField(default=list)
    order_reference = models.CharField(max_length=32, blank=True, db_index=True)
    temporary_reference = models.CharField(max_length=64, blank=True)
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

    def __str__(self) -> str:
        return self.temporary_reference or str(self.uid)


class ExportTask(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        SandboxAccount, on_delete=models.CASCADE, related_name="export_tasks"
    )
    started = models.DateTimeField(default=timezone.now)
    # Decided at creation so that polling gives one stable answer.
    will_fail = models.BooleanField(default=False)

    def __str__(self) -> str:
        return str(self.uid)


class SandboxCall(models.Model):
    """Every request the sandbox received, faulted ones included (tests count them)."""

    time = models.DateTimeField(default=timezone.now, db_index=True)
    account = models.CharField(max_length=150, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.FloatField()

    class Meta:
        ordering = ["time", "pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
