"""Differences and comparisons in the admin: read-only records, with one action (dismiss,
with a reason asked on an intermediate page) that goes through reconciliation.services like
the page's buttons. Pushing again and linking are done on the reconciliation page, which
each row links to."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from portal.roles import is_back_office
from reconciliation import services
from reconciliation.models import Comparison, Difference


class DismissReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": _("Give the reason for dismissing these differences.")},
    )


class ReadOnlyRecord:
    """Rows written by the comparisons and the services only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Difference)
class DifferenceAdmin(ReadOnlyRecord, admin.ModelAdmin):
    list_display = (
        "last_seen",
        "kind",
        "status",
        "concerns",
        "field_shown",
        "portal_short",
        "covage_short",
        "export_job",
        "on_the_page",
    )
    list_filter = ("status", "kind", ("last_seen", admin.DateFieldListFilter))
    search_fields = (
        "external_id",
        "covage_session_id",
        "covage_line_id",
        "session__external_id",
        "field",
    )
    list_select_related = ("session", "line", "line__session", "export_job")
    date_hierarchy = "last_seen"
    actions = ("dismiss_selected",)
    fields = (
        "kind",
        "status",
        "export_job",
        "session",
        "line",
        "covage_session_id",
        "covage_line_id",
        "external_id",
        "field",
        "field_shown",
        "portal_value",
        "covage_value",
        "resolution_shown",
        "resolved_by",
        "resolved_at",
        "first_seen",
        "last_seen",
    )
    readonly_fields = fields

    @admin.display(description=_("concerns"))
    def concerns(self, obj: Difference) -> str:
        return obj.subject

    @admin.display(description=_("field"))
    def field_shown(self, obj: Difference) -> str:
        return obj.field_label

    @admin.display(description=_("resolution"))
    def resolution_shown(self, obj: Difference) -> str:
        return obj.resolution_text

    @admin.display(description=_("in the portal"))
    def portal_short(self, obj: Difference) -> str:
        return Truncator(obj.portal_value).chars(60)

    @admin.display(description=_("at Covage"))
    def covage_short(self, obj: Difference) -> str:
        return Truncator(obj.covage_value).chars(60)

    @admin.display(description=_("resolve"))
    def on_the_page(self, obj: Difference) -> str:
        url = f"{reverse('reconciliation:list')}?difference={obj.pk}"
        if obj.is_open:
            text = pgettext("link to a difference", "Resolve")
        else:
            text = pgettext("link to a difference", "View")
        return format_html('<a href="{}">{}</a>', url, text)

    def has_dismiss_permission(self, request: HttpRequest) -> bool:
        return is_back_office(request.user)

    @admin.action(
        description=_("Dismiss selected differences (with a reason)"), permissions=["dismiss"]
    )
    def dismiss_selected(
        self, request: HttpRequest, queryset: QuerySet[Difference]
    ) -> HttpResponse | None:
        open_ones = queryset.filter(status=Difference.Status.OPEN)
        form = DismissReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            dismissed = 0
            for difference in open_ones:
                try:
                    services.dismiss(
                        user=request.user, difference=difference, reason=form.cleaned_data["reason"]
                    )
                except services.ResolutionError:
                    continue
                dismissed += 1
            self.message_user(
                request,
                ngettext(
                    "%(count)d difference dismissed.",
                    "%(count)d differences dismissed.",
                    dismissed,
                )
                % {"count": dismissed},
                messages.SUCCESS,
            )
            skipped = queryset.count() - dismissed
            if skipped:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d selected difference was not open: left as it is.",
                        "%(count)d selected differences were not open: left as they are.",
                        skipped,
                    )
                    % {"count": skipped},
                    messages.WARNING,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Dismiss differences"),
            "opts": self.model._meta,
            "form": form,
            "differences": open_ones,
            "skipped": queryset.exclude(status=Difference.Status.OPEN).count(),
            "selected": queryset.values_list("pk", flat=True),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "reconciliation/admin_dismiss.html", context)


@admin.register(Comparison)
class ComparisonAdmin(ReadOnlyRecord, admin.ModelAdmin):
    list_display = (
        "export_job",
        "export_started_at",
        "status",
        "started_at",
        "finished_at",
        "runs",
    )
    list_filter = ("status",)
    list_select_related = ("export_job",)
    fields = (
        "export_job",
        "status",
        "export_started_at",
        "started_at",
        "finished_at",
        "runs",
        "summary",
        "error_shown",
    )
    readonly_fields = fields

    @admin.display(description=_("error"))
    def error_shown(self, obj: Comparison) -> str:
        return obj.error_text
