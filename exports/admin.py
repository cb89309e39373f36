from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from exports import services
from exports.models import ExportGuard, ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "requested_at",
        "requested_by",
        "trigger",
        "status",
        "row_count",
        "size_bytes",
        "expires_at",
        "task_id",
    )
    list_filter = ("status", "trigger", ("requested_at", admin.DateFieldListFilter))
    search_fields = ("task_id", "requested_by__username", "requested_by__email", "covage_account")
    date_hierarchy = "requested_at"
    list_select_related = ("requested_by",)
    actions = ("retry_selected",)
    # The error is shown in the reader's language (error_text), not as its stored msgid.
    exclude = ("error", "error_params")
    # What Covage said and what the workers did is a record, not something to edit.
    readonly_fields = (
        "error_text",
        "requested_by",
        "trigger",
        "covage_account",
        "task_id",
        "requested_at",
        "not_before",
        "started_at",
        "stopped_at",
        "finished_at",
        "file",
        "size_bytes",
        "row_count",
        "error_code",
        "retry_after_until",
        "poll_count",
        "start_attempts",
        "start_claimed_at",
        "download_claimed_at",
        "schedule_slot",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Exports are requested from the Exports page or the schedule, never typed in.
        return False

    @admin.display(description=_("error"))
    def error_text(self, obj: ExportJob) -> str:
        return obj.error_text

    @admin.action(description=_("Retry selected exports"), permissions=["change"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[ExportJob]) -> None:
        retried = skipped = 0
        for job in queryset:
            if job.is_active or job.is_downloadable:
                skipped += 1
                continue
            services.retry_export_job(job_id=job.pk)
            retried += 1
        if retried:
            self.message_user(
                request,
                ngettext(
                    "%(count)d export queued again.", "%(count)d exports queued again.", retried
                )
                % {"count": retried},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d export skipped: still running or already downloadable.",
                    "%(count)d exports skipped: still running or already downloadable.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(ExportGuard)
class ExportGuardAdmin(admin.ModelAdmin):
    list_display = ("account", "next_allowed_at", "last_job")
    readonly_fields = ("account", "last_job")
