"""Back-office corrections: sessions with their lines and contacts, and who changed what."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from orders.models import (
    LineContact,
    LineStateChange,
    LineTerminationError,
    OrderEvent,
    OrderLine,
    OrderSession,
)

REMOTE_SESSION_FIELDS = (
    "covage_id",
    "remote_state",
    "creation_date",
    "order_date",
    "completion_date",
    "cancellation_date",
)
REMOTE_LINE_FIELDS = (
    "covage_id",
    "remote_state",
    "temporary_reference",
    "order_reference",
    "building_ref",
    "order_date",
    "completion_date",
    "cancellation_date",
    "cancellation_reason",
)


class OrderLineInline(admin.StackedInline):
    model = OrderLine
    extra = 0
    show_change_link = True
    fields = (
        "position",
        "end_customer_name",
        "product_offering_id",
        "offer_family",
        "enni",
        "vlan_reference",
        "remote_state",
        "sync_status",
    )
    readonly_fields = ("remote_state", "sync_status")


class LineContactInline(admin.StackedInline):
    model = LineContact
    extra = 0


class StateChangeInline(admin.TabularInline):
    model = LineStateChange
    extra = 0
    can_delete = False
    readonly_fields = ("state", "change_date", "change_reason")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TerminationErrorInline(admin.TabularInline):
    model = LineTerminationError
    extra = 0
    can_delete = False
    readonly_fields = ("code", "property_path", "value", "received_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "user", "action", "message", "line")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OrderSession)
class OrderSessionAdmin(SimpleHistoryAdmin):
    list_display = (
        "external_id",
        "owner",
        "project_id",
        "remote_state",
        "sync_status",
        "created_at",
    )
    list_filter = ("sync_status", "remote_state", "created_at")
    search_fields = (
        "external_id",
        "covage_id",
        "owner__username",
        "lines__end_customer_name",
        "lines__temporary_reference",
        "lines__order_reference",
    )
    readonly_fields = (
        *REMOTE_SESSION_FIELDS,
        "version",
        "last_synced_at",
        "last_sync_error",
        "confirm_requested_at",
        "confirm_attempted_at",
        "confirmed_at",
        "created_at",
        "updated_at",
    )
    list_select_related = ("owner",)
    inlines = (OrderLineInline, OrderEventInline)
    actions = ("resync_from_covage", "push_to_covage")

    @admin.action(description="Resync selected sessions from Covage (read their states)")
    def resync_from_covage(self, request: HttpRequest, queryset: QuerySet[OrderSession]) -> None:
        from orders.tasks import poll_session

        sessions = list(queryset.exclude(covage_id="").values_list("pk", flat=True))
        for pk in sessions:
            poll_session.delay(pk)
        skipped = queryset.filter(covage_id="").count()
        self.message_user(request, f"{len(sessions)} session(s) queued for a resync.")
        if skipped:
            self.message_user(
                request,
                f"{skipped} session(s) have not reached Covage yet: nothing to read back.",
                messages.WARNING,
            )

    @admin.action(description="Send pending changes of selected sessions to Covage")
    def push_to_covage(self, request: HttpRequest, queryset: QuerySet[OrderSession]) -> None:
        from orders.tasks import sync_session

        for pk in queryset.values_list("pk", flat=True):
            sync_session.delay(pk)
        self.message_user(request, f"{queryset.count()} session(s) queued.")


@admin.register(OrderLine)
class OrderLineAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "end_customer_name",
        "offer_family",
        "remote_state",
        "sync_status",
        "order_reference",
    )
    list_filter = ("sync_status", "remote_state", "offer_family")
    search_fields = (
        "session__external_id",
        "end_customer_name",
        "temporary_reference",
        "order_reference",
        "covage_id",
        "contacts__end_customer_name",
        "contacts__city",
    )
    list_select_related = ("session",)
    readonly_fields = (
        *REMOTE_LINE_FIELDS,
        "version",
        "synced_version",
        "rejected_version",
        "last_synced_at",
        "last_sync_error",
        "remote_errors",
        "deleted_at",
    )
    inlines = (LineContactInline, StateChangeInline, TerminationErrorInline)

    def save_model(self, request: HttpRequest, obj: OrderLine, form: object, change: bool) -> None:
        # A correction made here is a new version: it is sent to Covage like any other.
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)
        from orders.services.drafts import queue_sync

        queue_sync(obj.session)


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "session", "line", "actor", "user", "action", "message")
    list_filter = ("actor", "action")
    search_fields = ("session__external_id", "message", "user__username")
    list_select_related = ("session", "line", "user")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
