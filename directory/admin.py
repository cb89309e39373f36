"""The directory in the admin, for the back office: every write goes through
directory.services (the same checks, and the author in the history); merging and deleting
are the back office's; the history is read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from directory import services
from directory.models import CustomerSite, DirectoryContact, DirectoryEvent, EndCustomer
from directory.services.entries import CONTACT_FIELDS, CUSTOMER_FIELDS, SITE_FIELDS
from orders import validators
from portal.roles import is_back_office


class ServiceWrites(admin.ModelAdmin):
    """Saves and deletes through the services."""

    editable: tuple[str, ...] = ()
    readonly_fields = ("created_by", "created_at", "updated_at")

    def values(self, form: forms.ModelForm) -> dict[str, Any]:
        names = self.editable if form.instance.pk is None else form.changed_data
        return {name: form.cleaned_data[name] for name in names if name in self.editable}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            updated = services.update_entry(user=request.user, entry=obj, values=self.values(form))
            obj.pk = updated.pk
        else:
            created = self.create(request, obj, self.values(form))
            obj.pk = created.pk

    def create(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # An entry stays with its customer: moving one is a merge (back office).
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not isinstance(obj, EndCustomer):
            fields += ("customer",)
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_back_office(request.user) and super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_entry(user=request.user, entry=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            services.delete_entry(user=request.user, entry=obj)


class EndCustomerForm(forms.ModelForm):
    # Any spelling of a SIRET (with spaces): normalised, then checked.
    siret = forms.CharField(label=_("SIRET number"), required=False, max_length=32)

    class Meta:
        model = EndCustomer
        fields = CUSTOMER_FIELDS

    def clean_siret(self) -> str:
        siret = validators.normalise_siret(self.cleaned_data.get("siret") or "")
        if siret:
            validators.validate_siret(siret)
        return siret

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        existing = services.find_duplicates(
            name=cleaned.get("name", ""),
            siret=cleaned.get("siret", ""),
            exclude=self.instance.pk,
        )
        same_siret = [customer for customer in existing if customer.siret == cleaned.get("siret")]
        if same_siret:
            raise forms.ValidationError(
                _("%(name)s already has this SIRET: merge the two entries instead."),
                params={"name": same_siret[0].name},
            )
        return cleaned


@admin.register(EndCustomer)
class EndCustomerAdmin(ServiceWrites):
    form = EndCustomerForm
    editable = CUSTOMER_FIELDS
    list_display = ("name", "siret", "business_code", "created_by", "updated_at")
    search_fields = ("name", "siret", "sites__city", "sites__postcode")
    actions = ["merge_into_oldest"]

    def create(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Any:
        return services.create_customer(user=request.user, values=values)

    @admin.action(description=_("Merge the selected customers into the oldest one"))
    def merge_into_oldest(self, request: HttpRequest, queryset: QuerySet[EndCustomer]) -> None:
        customers = list(queryset.order_by("created_at", "pk"))
        if len(customers) < 2:
            self.message_user(
                request, _("Select at least two customers to merge."), messages.WARNING
            )
            return
        try:
            keep = services.merge_customers(
                user=request.user, keep=customers[0], others=customers[1:]
            )
        except services.DirectoryError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d customer merged into %(name)s.",
                "%(count)d customers merged into %(name)s.",
                len(customers) - 1,
            )
            % {"count": len(customers) - 1, "name": keep.name},
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not is_back_office(request.user):
            actions.pop("merge_into_oldest", None)
            actions.pop("delete_selected", None)
        return actions


@admin.register(CustomerSite)
class CustomerSiteAdmin(ServiceWrites):
    editable = SITE_FIELDS
    fields = ("customer", *SITE_FIELDS, "created_by", "created_at", "updated_at")
    list_display = ("__str__", "customer", "insee_code", "created_by")
    search_fields = ("customer__name", "city", "postcode", "street_name")
    autocomplete_fields = ("customer",)

    def create(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Any:
        return services.add_site(user=request.user, customer=obj.customer, values=values)


@admin.register(DirectoryContact)
class DirectoryContactAdmin(ServiceWrites):
    editable = CONTACT_FIELDS
    fields = ("customer", *CONTACT_FIELDS, "created_by", "created_at", "updated_at")
    list_display = ("__str__", "customer", "created_by")
    search_fields = ("customer__name", "lastname", "email_address")
    autocomplete_fields = ("customer",)

    def create(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Any:
        return services.add_contact(user=request.user, customer=obj.customer, values=values)


@admin.register(DirectoryEvent)
class DirectoryEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "kind", "customer_name", "user", "fields_text")
    list_filter = ("action", "kind")
    search_fields = ("customer_name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
