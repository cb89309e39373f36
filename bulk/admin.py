"""Uploads in the admin, read-only: the back office sees what was sent, when, by whom and what
came of it. Changes go through the import pages (the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from bulk.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = (
        "file_name",
        "session",
        "owner",
        "status",
        "total_rows",
        "valid_rows",
        "imported_lines",
        "created_at",
    )
    list_filter = ("status", "policy")
    search_fields = ("file_name", "session__external_id", "digest")
    readonly_fields = [
        field.name for field in ImportBatch._meta.fields if field.name not in ("content",)
    ]
    exclude = ("content",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
