"""Back-office corrections: sessions with their lines and contacts, and who changed what.

Every write made here goes through the services, as the portal's pages do: a line is saved by
`save_line` (its step forms' checks, the version it was opened with, the fixed offer, the
sync), deleted by `delete_line` (so that Covage deletes it too). A session's lines are shown
read-only on the session, each linking to its own page. Audit rows (events, Covage's states
and termination errors, the history of changes) are read-only for everyone but superusers,
and only superusers may revert to an older version, through the same services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from orders import dispatch
from orders import forms as order_forms
from orders.models import (
    LineContact,
    LineStateChange,
    LineTerminationError,
    OrderEvent,
    OrderLine,
    OrderSession,
)
from orders.services import attention
from orders.services.drafts import check_line_change, delete_line, offer_is_fixed, save_line
from orders.services.errors import LockedError, OfferFixedError, OrderError, StaleLineError
from orders.wire import MIRRORED_FIELDS

if TYPE_CHECKING:
    from django.contrib.admin.options import BaseModelAdmin
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

    _AdminBase = BaseModelAdmin[Any]
else:
    _AdminBase = object

REMOTE_SESSION_FIELDS = (
    "covage_id",
    "remote_state",
    "creation_date",
    "order_date",
    "completion_date",
    "cancellation_date",
)
# What Covage's answers set on a line, shown read-only (its raw answer is not for reading).
REMOTE_LINE_FIELDS = tuple(name for name in MIRRORED_FIELDS if name != "remote_payload")
LINE_SYNC_FIELDS = (
    "sync_status",
    "synced_version",
    "rejected_version",
    "last_synced_at",
    "last_sync_error_text",
    "remote_errors",
    "deleted_at",
)

CONFLICT_MESSAGE = _(
    "Not saved: someone else saved this line at %(time)s while you were editing it. Your "
    "changes are below: review them against the current values and save again."
)
SESSION_AT_COVAGE = _(
    "order sessions that exist at Covage (Covage offers no way to delete a session)"
)


def session_may_exist_at_covage(session: OrderSession) -> bool:
    """Covage has it, or a creating request was sent whose outcome is not known yet."""
    return bool(session.covage_id or session.create_attempted_at)


def acting_user(request: HttpRequest) -> User:
    """The admin serves logged-in staff only."""
    return cast("User", request.user)


def stored_text(text: str) -> str:
    """A last error or an attention reason in the reader's language: the services store
    English msgids (and Covage's own words, which stay as they are)."""
    return gettext(text) if text else ""


class StoredTextsMixin(_AdminBase):
    """The stored texts, in the reader's language."""

    @admin.display(description=_("Last sync error"))
    def last_sync_error_text(self, obj: OrderSession | OrderLine) -> str:
        return stored_text(obj.last_sync_error)


class AuditReadOnly(_AdminBase):
    """Rows that record what happened: read-only for everyone but superusers."""

    def has_add_permission(self, request: HttpRequest, *args: Any, **kwargs: Any) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class ServiceHistoryAdmin(SimpleHistoryAdmin):
    """The history of changes, with their authors. Reverting writes an older version back:
    only superusers may, and through the model admin's own save (the services)."""

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return not request.user.is_superuser or super().revert_disabled(request, obj)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, extra_context)
        # Hiding the Revert button is not enough: the POST itself is refused.
        if self.revert_disabled(request):
            raise PermissionDenied
        view = super().history_form_view
        return _refusals_as_messages(
            request, lambda: _atomic(view, request, object_id, version_id, extra_context)
        )


def _atomic(view: Any, *args: Any) -> HttpResponse:
    with transaction.atomic():
        return view(*args)


def _refusals_as_messages(request: HttpRequest, run: Any) -> HttpResponse:
    """A refusal that arrives after the form's checks (someone saved in between): nothing was
    written (the save is one transaction); say so instead of failing."""
    try:
        return run()
    except OrderError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(request.get_full_path())


# --- Sessions -----------------------------------------------------------------------------------


class OrderLineInline(admin.TabularInline):
    """A session's lines, read-only: each is corrected on its own page (the link)."""

    model = OrderLine
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (
        "position",
        "end_customer_name",
        "product_offering_id",
        "offer_family",
        "offer_technology",
        "remote_state",
        "sync_status",
        "deleted_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventTextsMixin(_AdminBase):
    """An event's action and message in the reader's language (orders.events)."""

    @admin.display(description=_("action"), ordering="action")
    def action_text(self, obj: OrderEvent) -> str:
        return obj.action_text

    @admin.display(description=_("message"))
    def message_text(self, obj: OrderEvent) -> str:
        return obj.message_text


class OrderEventInline(EventTextsMixin, AuditReadOnly, admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "user", "action_text", "message_text", "line")
    fields = readonly_fields


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("yes", _("Needs attention")), ("waiting", _("Waiting for an export"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OrderSession]) -> Any:
        if self.value() == "yes":
            return queryset.filter(attention_since__isnull=False)
        if self.value() == "waiting":
            return queryset.filter(settle_after__isnull=False)
        return queryset


@admin.register(OrderSession)
class OrderSessionAdmin(StoredTextsMixin, ServiceHistoryAdmin):
    list_display = (
        "external_id",
        "owner",
        "project_id",
        "remote_state",
        "sync_status",
        "created_at",
    )
    list_filter = (NeedsAttentionFilter, "sync_status", "remote_state", "created_at")
    search_fields = (
        "external_id",
        "covage_id",
        "owner__username",
        "lines__end_customer_name",
        "lines__temporary_reference",
        "lines__order_reference",
    )
    # Only the owner is edited here (it stays in the portal); everything else is either sent
    # to Covage or the portal's own bookkeeping, changed by the services alone.
    fields = (
        "owner",
        "external_id",
        "project_id",
        *REMOTE_SESSION_FIELDS,
        "sync_status",
        "version",
        "last_synced_at",
        "last_sync_error_text",
        "confirm_requested_at",
        "confirm_attempted_at",
        "confirmed_at",
        "attention_reason_text",
        "attention_since",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields[1:]
    list_select_related = ("owner",)
    inlines = (OrderLineInline, OrderEventInline)
    actions = ("resolve_attention", "resync_from_covage", "push_to_covage")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Sessions are created in the portal (services.create_session).
        return False

    @admin.display(description=_("Needs attention because"))
    def attention_reason_text(self, obj: OrderSession) -> str:
        return stored_text(obj.attention_reason)

    def has_delete_permission(self, request: HttpRequest, obj: OrderSession | None = None) -> bool:
        if obj is not None and session_may_exist_at_covage(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        """The bulk "delete" action checks every selected session: one at Covage stops it,
        with the reason."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if any(session_may_exist_at_covage(session) for session in objs):
            perms_needed = {*perms_needed, str(SESSION_AT_COVAGE)}
        return deleted, counts, perms_needed, protected

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OrderSession]) -> None:
        if any(session_may_exist_at_covage(session) for session in queryset):
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    @admin.action(description=_("Resolve: try again (sessions that need attention)"))
    def resolve_attention(self, request: HttpRequest, queryset: QuerySet[OrderSession]) -> None:
        resolved = 0
        for session in queryset.filter(attention_since__isnull=False):
            attention.resolve_attention(user=acting_user(request), session=session)
            resolved += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d session queued again; the portal looks before sending anything.",
                "%(count)d sessions queued again; the portal looks before sending anything.",
                resolved,
            )
            % {"count": resolved},
        )
        skipped = queryset.filter(attention_since__isnull=True).count()
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected session did not need attention: left as it is.",
                    "%(count)d selected sessions did not need attention: left as they are.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Resync selected sessions from Covage (read their states)"))
    def resync_from_covage(self, request: HttpRequest, queryset: QuerySet[OrderSession]) -> None:
        sessions = list(queryset.exclude(covage_id="").values_list("pk", flat=True))
        for pk in sessions:
            dispatch.enqueue_poll(pk)
        skipped = queryset.filter(covage_id="").count()
        self.message_user(
            request,
            ngettext(
                "%(count)d session queued for a resync.",
                "%(count)d sessions queued for a resync.",
                len(sessions),
            )
            % {"count": len(sessions)},
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d session has not reached Covage yet: nothing to read back.",
                    "%(count)d sessions have not reached Covage yet: nothing to read back.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Send pending changes of selected sessions to Covage"))
    def push_to_covage(self, request: HttpRequest, queryset: QuerySet[OrderSession]) -> None:
        count = 0
        for pk in queryset.values_list("pk", flat=True):
            dispatch.enqueue_sync(pk)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d session queued.", "%(count)d sessions queued.", count)
            % {"count": count},
        )


# --- Lines --------------------------------------------------------------------------------------


class OrderLineAdminForm(forms.ModelForm):
    """A correction of a line: the fields of its five steps, checked by the step forms
    themselves (orders.forms.LineCorrection), then saved by `save_line` like a step. The
    version the page was opened with travels in a hidden field, so that a save made
    meanwhile is reported as a conflict instead of being overwritten."""

    opened_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = OrderLine
        # No model field is written by the form itself: the service writes them all.
        fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        line = self.instance
        data = None
        if self.is_bound:
            # The step forms check formats; the version is checked by the service's rules.
            data = cast(QueryDict, self.data).copy()
            data["version"] = str(line.version)
        self.correction = order_forms.LineCorrection(line, data)
        for name, field in self.correction.fields().items():
            for attribute in [key for key in field.widget.attrs if key.startswith("hx-")]:
                del field.widget.attrs[attribute]  # the portal's htmx is not loaded here
            self.fields[name] = field
        self.initial.update(self.correction.initial())
        # The line as saved now (a reverted history entry carries an old version).
        current = OrderLine.objects.filter(pk=line.pk).values_list("version", flat=True).first()
        self.initial.setdefault("opened_version", current or line.version)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        # The step forms are the authority on formats: their messages, once each.
        for name in self.correction.fields():
            self.errors.pop(name, None)
        for name, field_messages in self.correction.errors().items():
            self.add_error(name if name in self.fields else None, field_messages)
        version = cleaned.get("opened_version")
        if version is None or self.errors:
            return cleaned
        line = OrderLine.objects.select_related("session").get(pk=self.instance.pk)
        if line.deleted_at is not None:
            self.add_error(
                None, gettext("This line has been deleted: it can no longer be changed.")
            )
            return cleaned
        try:
            check_line_change(line, self.correction.line_data(), version)
        except StaleLineError as exc:
            saved_at = timezone.localtime(line.updated_at)
            self.add_error(None, CONFLICT_MESSAGE % {"time": time_format(saved_at, "H:i")})
            # Saving again (after review) is a decision made on the current version.
            data = cast(QueryDict, self.data).copy()
            data["opened_version"] = str(exc.current_version)
            self.data = data
        except OfferFixedError as exc:
            for name in exc.fields:
                self.add_error(name, str(exc))
        except LockedError as exc:
            self.add_error(None, str(exc))
        return cleaned


class LineContactInline(admin.StackedInline):
    """Contact entries after the first, read-only: the first one is corrected with the line
    (its fields are in the line's form), and nothing else edits the others."""

    model = LineContact
    extra = 0
    can_delete = False
    verbose_name = _("other contact entry")
    verbose_name_plural = _("Other contact entries (read-only)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LineContact]:
        return super().get_queryset(request).filter(position__gt=0)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StateChangeInline(AuditReadOnly, admin.TabularInline):
    model = LineStateChange
    extra = 0
    can_delete = False
    readonly_fields = ("state", "change_date", "change_reason")


class TerminationErrorInline(AuditReadOnly, admin.TabularInline):
    model = LineTerminationError
    extra = 0
    can_delete = False
    readonly_fields = ("code", "property_path", "value", "received_at")


@admin.register(OrderLine)
class OrderLineAdmin(StoredTextsMixin, ServiceHistoryAdmin):
    form = OrderLineAdminForm
    list_display = (
        "__str__",
        "end_customer_name",
        "offer_family",
        "remote_state",
        "sync_status",
        "order_reference",
    )
    list_filter = (
        "sync_status",
        "remote_state",
        "offer_family",
        ("deleted_at", admin.EmptyFieldListFilter),
    )
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
        "session",
        "position",
        "version",
        "offer_action",
        *REMOTE_LINE_FIELDS,
        *LINE_SYNC_FIELDS,
    )
    inlines = (LineContactInline, StateChangeInline, TerminationErrorInline)
    # templates/admin/orders/orderline/ says how a deletion reaches Covage.

    def get_fieldsets(self, request: HttpRequest, obj: OrderLine | None = None) -> list[Any]:
        steps = [
            (step.title, {"fields": names if step.slug != "offer" else [*names, "offer_action"]})
            for step, names in order_forms.correction_field_names()
        ]
        return [
            (None, {"fields": ("session", "position", "version", "opened_version")}),
            *steps,
            (_("At Covage"), {"fields": REMOTE_LINE_FIELDS}),
            (_("Sync with Covage"), {"fields": LINE_SYNC_FIELDS}),
        ]

    def get_form(
        self,
        request: HttpRequest,
        obj: OrderLine | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        # The step fields are the form's own (see OrderLineAdminForm), not model fields.
        kwargs["fields"] = ()
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description=_("Another offer"))
    def offer_action(self, obj: OrderLine) -> str:
        if not obj.pk or not offer_is_fixed(obj) or obj.deleted_at is not None:
            return self.get_empty_value_display()
        return format_html(
            '<a href="{}">{}</a>',
            reverse("orders:replace_line", args=[obj.session_id, obj.pk]),
            order_forms.REPLACE_ACTION,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Lines are added in the portal (services.add_line).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OrderLine | None = None) -> bool:
        if obj is not None and (obj.deleted_at is not None or obj.session.is_locked):
            return False
        return super().has_delete_permission(request, obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "GET":
            line = self.get_object(request, object_id)
            if line is not None and line.session.is_locked:
                messages.warning(request, str(LockedError()))
            elif line is not None and line.deleted_at is not None:
                messages.warning(
                    request, gettext("This line has been deleted: it is waiting for Covage.")
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        view = super().changeform_view
        return _refusals_as_messages(request, lambda: view(request, *args, **kwargs))

    def save_model(
        self, request: HttpRequest, obj: OrderLine, form: OrderLineAdminForm, change: bool
    ) -> None:
        save_line(
            user=acting_user(request),
            line=obj,
            data=form.correction.line_data(),
            contact_data=form.correction.contact_data(),
            version=form.cleaned_data["opened_version"],
            # Lazy: the event keeps the msgid, shown in each reader's language.
            title=_("Correction in the admin"),
        )

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, ...]:
        """What deleting shows: the lines alone. They are deleted as the portal deletes them
        (at Covage too, by the sync), and their records stay until Covage confirms."""
        objs = list(objs)
        perms_needed = set()
        if any(not self.has_delete_permission(request, line) for line in objs):
            perms_needed.add(
                str(_("order lines of a session sent for confirmation, or already deleted"))
            )
        counts = {str(OrderLine._meta.verbose_name_plural): len(objs)}
        return [str(line) for line in objs], counts, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: OrderLine) -> None:
        delete_line(user=acting_user(request), line=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[OrderLine]) -> None:
        for line in queryset.select_related("session"):
            delete_line(user=acting_user(request), line=line)


# --- Events -------------------------------------------------------------------------------------


@admin.register(OrderEvent)
class OrderEventAdmin(EventTextsMixin, AuditReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "session", "line", "actor", "user", "action_text", "message_text")
    list_filter = ("actor", "action")
    search_fields = ("session__external_id", "message", "user__username")
    list_select_related = ("session", "line", "user")
