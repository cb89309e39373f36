"""Read-only lists of the sandbox's state, for demos and debugging."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from covage.sandbox.models import (
    ExportTask,
    ProductOrder,
    ProductOrderItem,
    SandboxAccount,
    SandboxCall,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SandboxAccount)
class SandboxAccountAdmin(ReadOnlyAdmin):
    list_display = ("username", "created_at", "last_export_at")


@admin.register(ProductOrder)
class ProductOrderAdmin(ReadOnlyAdmin):
    list_display = ("uid", "account", "external_id", "state", "creation_date", "order_date")
    list_filter = ("state",)
    search_fields = ("uid", "external_id")


@admin.register(ProductOrderItem)
class ProductOrderItemAdmin(ReadOnlyAdmin):
    list_display = ("temporary_reference", "order_reference", "state", "product_order")
    list_filter = ("state",)
    list_select_related = ("product_order",)
    search_fields = ("temporary_reference", "order_reference")


@admin.register(ExportTask)
class ExportTaskAdmin(ReadOnlyAdmin):
    list_display = ("uid", "account", "started", "will_fail")


@admin.register(SandboxCall)
class SandboxCallAdmin(ReadOnlyAdmin):
    list_display = ("time", "account", "method", "path", "status", "duration_ms")
    list_filter = ("method", "status")
    search_fields = ("path",)
