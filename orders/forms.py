"""The forms of order entry: a new session, the session list's filters, and one form per step
of a line.

Step forms check formats only: a draft may be partial, so nothing is required before the
confirmation check (orders/confirmation.py). Their cleaned data uses the model field names of
the step (orders/steps.py), which is what `services.save_line_step` takes.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlencode

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from orders import referentials, selectors, validators
from orders.confirmation import CPE_OPTION, has_cpe_option, is_dia
from orders.models import LineContact, OrderLine, SyncStatus
from orders.selectors import SESSION_REMOTE_STATES
from orders.services.drafts import OFFER_FIELDS, offer_is_fixed
from orders.steps import ADDRESS, CUSTOMER, OFFER, REVIEW, STEPS, STEPS_BY_SLUG, TECHNICAL, Step

# Options a salesperson picks from; any other option id is typed in "Other options".
KNOWN_OPTIONS = ((CPE_OPTION, f"CPE supplied by Covage ({CPE_OPTION})"),)
OFFER_FAMILIES = ("BPE", "BPEA", "DIA")

DIA_NOTICE = "Covage sets the ENNI for the DIA offer: the ENNI fields are left empty."
OFFER_FIXED_HELP = _(
    "Covage cannot change the offer of a line it already has. To order another offer, "
    "replace the line."
)
REPLACE_ACTION = _("Replace the line with another offer")
CPE_WITHOUT_OPTION = (
    f"CPE details only apply with option {CPE_OPTION} (CPE supplied by Covage): "
    "tick it on the Offer step first, or leave this empty."
)

# The labels the forms show, in plain words from the field descriptions of the Order Taking
# document. The check page uses them too, so that a problem names the field as the form does.
LABELS: dict[str, str] = {
    # Offer
    "product_offering_id": "Product offering identifier",
    "product_offering_qualification_item_id": "Eligibility (qualification item) identifier",
    "quote_item_id": "Quote item identifier",
    "offer_family": "Offer family",
    "offer_technology": "Offer technology",
    "option_ids": "Options",
    "other_option_ids": "Other option identifiers",
    "project_id": "Project",
    "external_id": "Your reference for this line",
    # Technical
    "delivery_mode": "Delivery mode",
    "enni": "ENNI (collection port)",
    "enni_2": "Second ENNI (collection port)",
    "vlan_reference": "VLAN (1–4094)",  # noqa: RUF001 (an en dash, as typeset)
    "additional_vlan_reference": "Additional VLAN",
    "cpe_networking_number": "CPE networking number",
    "cpe_serial_number": "CPE serial number",
    "scheduled_delivery_date": "Scheduled delivery date",
    # End customer and contacts
    "end_customer_name": "End customer name",
    "siret_known": "SIRET known",
    "siret": "SIRET number",
    "customer_order_name": "Customer order name",
    "business_code": "Business code",
    "billing_site_ref": "Billing site reference",
    "contact1_firstname": "On-site contact first name",
    "contact1_lastname": "On-site contact last name",
    "contact1_email_address": "On-site contact e-mail",
    "contact1_phone_number": "On-site contact phone",
    "contact2_firstname": "Second contact first name",
    "contact2_lastname": "Second contact last name",
    "contact2_email_address": "Second contact e-mail",
    "contact2_phone_number": "Second contact phone",
    # Address
    "street_number": "Street number",
    "street_number_extension": "Street number extension",
    "street_name": "Street name",
    "building_name": "Building name",
    "level_number": "Floor (level number)",
    "postcode": "Postcode",
    "city": "City",
    "insee_code": "INSEE code",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "access_instructions": "Access instructions",
    "specific_request": "Specific request",
    # Review
    "note": "Note",
    "technical_note": "Technical note",
}

HELP: dict[str, str] = {
    "product_offering_id": "From the eligibility result, for example 2173. Needed to confirm.",
    "product_offering_qualification_item_id": (
        "The qualification item id of the eligibility result that this line orders. "
        "Needed to confirm."
    ),
    "quote_item_id": "Only for an offer priced on quote: the id of the accepted quote line.",
    "offer_family": "DIA: Covage chooses the ENNI itself.",
    "offer_technology": "As the eligibility result gives it, for example FIBDE.",
    "option_ids": f"Option {CPE_OPTION}: Covage supplies the CPE (router) on site.",
    "other_option_ids": "Any other option ids, separated by commas, for example 7010, 7033.",
    "project_id": "The commercial project agreed with Covage, if the line belongs to one.",
    "external_id": "Optional: your own reference, to find the line later.",
    "delivery_mode": "How the line is handed over to you; it narrows the list of ENNIs.",
    "enni": (
        "The collection port where Covage hands the line over to your network. "
        "Needed to confirm (except for DIA)."
    ),
    "enni_2": "Only for a line delivered on two ports.",
    "vlan_reference": "A number from 1 to 4094.",
    "additional_vlan_reference": "Only if the offer uses a second VLAN.",
    "cpe_networking_number": f"Needed with option {CPE_OPTION}, for example NET-123456.",
    "cpe_serial_number": f"Needed with option {CPE_OPTION}, for example SR-123456.",
    "scheduled_delivery_date": "Today or later. Leave empty for the earliest possible date.",
    "end_customer_name": "The company or person the line is for. Needed to confirm.",
    "siret_known": "Tick if the end customer has a SIRET number: it is then needed to confirm.",
    "siret": "14 digits: the 9-digit SIREN, then the 5-digit establishment number.",
    "customer_order_name": "The name of the order on your side (your order form, say).",
    "business_code": "Your business code for this order, if you use one.",
    "billing_site_ref": "Your reference of the site to bill, if you use one.",
    "contact1_phone_number": "A French number, for example 06 12 34 56 78.",
    "contact2_phone_number": "A French number, for example 01 23 45 67 89.",
    "street_number_extension": "bis, ter, B…: leave empty if none.",
    "postcode": "5 digits, for example 76130.",
    "insee_code": (
        "The commune's INSEE code, which is not its postcode: Mont-Saint-Aignan is 76451 "
        "(postcode 76130). Corsica uses 2A/2B, overseas 971 to 989."
    ),
    "latitude": "Decimal degrees, for example 49.4744077 (optional).",
    "longitude": "Decimal degrees, for example 1.091455 (optional).",
    "access_instructions": "How the technician gets in: entrance, door code, keys, opening hours.",
    "specific_request": "Anything unusual Covage must know about this site.",
    "note": "Sent to Covage with the line.",
    "technical_note": "Technical details for Covage's teams.",
}


def label_for(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


# --- Fields ------------------------------------------------------------------------------------


class DecimalCommaFloatField(forms.FloatField):
    """A float that also accepts the French decimal comma (49,4744)."""

    def to_python(self, value: Any) -> float | None:
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


def _text(name: str, *, max_length: int = 255, textarea: bool = False) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 3}) if textarea else forms.TextInput
    return forms.CharField(
        label=label_for(name),
        help_text=HELP.get(name, ""),
        required=False,
        max_length=None if textarea else max_length,
        widget=widget,
    )


NOT_LISTED = _("%(value)s (not in Covage's list)")
NOT_LISTED_ERROR = _(
    "%(value)s is not in Covage's list: choose one of the list, or leave it empty."
)


class ListedChoiceField(forms.ChoiceField):
    """A choice from one of Covage's stored lists.

    The saved value stays selectable and valid even when the list no longer holds it (an
    inactive ENNI, a project that ended): saving another step must not drop it. A value sent
    that the list does not hold (typed while the list was not available yet, before the first
    refresh stored it) is refused with a message but stays on the page, selected: nothing
    typed is lost."""

    def __init__(
        self, *, listed: list[tuple[str, str]], saved: str = "", sent: str = "", **kwargs: Any
    ) -> None:
        self.listed = {value for value, _label in listed}
        self.saved = saved
        choices: list[tuple[str, Any]] = [("", "—"), *listed]
        for extra in dict.fromkeys((saved, sent)):
            if extra and extra not in self.listed:
                choices.append((extra, NOT_LISTED % {"value": extra}))
        super().__init__(choices=choices, **kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and value not in self.listed and value != self.saved:
            raise ValidationError(NOT_LISTED_ERROR, code="not_listed", params={"value": value})


def _select_or_text(
    name: str,
    referential: referentials.Referential,
    values: list[tuple[str, str]],
    current: str,
    *,
    sent: Any = "",
    unavailable: Any = "",
    help_text: Any = None,
) -> forms.Field:
    """A select of the stored list's values, or, before Covage's list was ever stored, a text
    input (as long as the column that keeps it) whose help text says so: the user types the
    value, and it gets the same checks as any other."""
    help_text = HELP.get(name, "") if help_text is None else help_text
    if not referential.available:
        field = _text(name, max_length=OrderLine._meta.get_field(name).max_length or 64)
        field.help_text = format_lazy("{} {}", unavailable, help_text) if help_text else unavailable
        return field
    return ListedChoiceField(
        label=label_for(name),
        help_text=help_text,
        required=False,
        listed=values,
        saved=current or "",
        sent=sent if isinstance(sent, str) else "",
    )


def project_field(current: str = "", *, sent: Any = "", help_text: Any = None) -> forms.Field:
    """The project picker: Covage's stored list of projects, or a text input before it is."""
    projects = referentials.projects()
    values = [(project.code, project.label) for project in projects.items]
    return _select_or_text(
        "project_id",
        projects,
        values,
        current,
        sent=sent,
        unavailable=referentials.PROJECTS_UNAVAILABLE,
        help_text=help_text,
    )


# --- Session forms -----------------------------------------------------------------------------


class NewSessionForm(forms.Form):
    external_id = forms.CharField(
        label="External id",
        max_length=64,
        required=False,
        help_text="Leave empty to let the portal number it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project_id"] = project_field(
            sent=self.data.get("project_id", "") if self.is_bound else "",
            help_text="The commercial project code agreed with Covage, if any.",
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_external_id(self) -> str:
        external_id = self.cleaned_data["external_id"].strip()
        if external_id and selectors.external_id_taken(external_id):
            raise ValidationError(
                "An order session with this external id already exists: choose another one, "
                "or leave it empty to let the portal number it.",
                code="external_id_taken",
            )
        return external_id

    def clean_project_id(self) -> str:
        return self.cleaned_data.get("project_id", "").strip()


class SessionFilterForm(forms.Form):
    """The sessions list's search and filters; invalid values are ignored, never an error."""

    search = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "External id, customer, reference…"}
        ),
    )
    remote_state = forms.ChoiceField(
        label="Covage state",
        required=False,
        choices=[("", "Any")]
        + [(state, state.replace("_", " ")) for state in SESSION_REMOTE_STATES],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    sync_status = forms.ChoiceField(
        label="Sync status",
        required=False,
        choices=[("", "Any"), *SyncStatus.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    date_from = forms.DateField(
        label="Created from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    date_to = forms.DateField(
        label="Created until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    def filters(self) -> dict[str, Any]:
        """The valid filters, as keyword arguments of `selectors.sessions_for`."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            name: data[name]
            for name in ("search", "remote_state", "sync_status", "date_from", "date_to")
            if data.get(name)
        }


# --- Step forms --------------------------------------------------------------------------------


class StepForm(forms.Form):
    """One step of a line. Built from the saved line (and its first contact); `version` is the
    line's version when the form was opened, so that a concurrent save is detected."""

    step: Step

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, line: OrderLine, **kwargs: Any) -> None:
        self.line = line
        self.contact = selectors.first_contact(line)
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {**self.saved_values(), "version": line.version, **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        self.notices: list[str] = []
        self.build_fields()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = self.layout()

    # Subclasses: declare their fields in build_fields and their layout in layout().
    def build_fields(self) -> None:
        return None

    def layout(self) -> Layout:
        return Layout(*self.fields)

    def sent(self, name: str) -> Any:
        """The value sent for a field (empty when the form is not bound)."""
        return self.data.get(name, "") if self.is_bound else ""

    def saved_values(self) -> dict[str, Any]:
        """The step's values as saved, keyed by field name."""
        values: dict[str, Any] = {}
        for name in self.step.contact_fields:
            values[name] = getattr(self.contact, name) if self.contact else None
        for name in self.step.line_fields:
            values[name] = getattr(self.line, name)
        return values

    def step_data(self) -> dict[str, Any]:
        """What to save: the fields that passed their checks, and for the others the value
        saved before (a wrong format is never saved, and nothing else typed is lost)."""
        cleaned = getattr(self, "cleaned_data", {})
        saved = self.saved_values()
        data: dict[str, Any] = {}
        for name in (*self.step.line_fields, *self.step.contact_fields):
            if name in cleaned:
                data[name] = cleaned[name]
            else:
                data[name] = _empty_if_none(name, saved.get(name))
        return data

    def show_remote_errors(self, errors: dict[str, list[str]]) -> None:
        """Show the errors Covage returned for this step's fields on the fields themselves
        (`errors` maps form field names to messages)."""
        if self.is_bound:
            return
        self.cleaned_data: dict[str, Any] = {}
        self._errors = ErrorDict()
        for name, messages in errors.items():
            target = name if name in self.fields else None
            for message in messages:
                text = f"Covage: {message}"
                if target is None and name not in ("", "non_field_errors"):
                    text = f"Covage: {label_for(name)}: {message}"
                self.add_error(target, text)


def _empty_if_none(name: str, value: Any) -> Any:
    if value is not None:
        return value
    if name in {"vlan_reference", "scheduled_delivery_date", "latitude", "longitude"}:
        return None
    if name == "siret_known":
        return None
    if name == "option_ids":
        return []
    return ""


class OfferForm(StepForm):
    step = OFFER

    def build_fields(self) -> None:
        current_options = [str(option) for option in self.line.option_ids or []]
        known = {value for value, _label in KNOWN_OPTIONS}
        self.fields["product_offering_id"] = _text("product_offering_id", max_length=64)
        self.fields["product_offering_qualification_item_id"] = _text(
            "product_offering_qualification_item_id", max_length=64
        )
        self.fields["quote_item_id"] = _text("quote_item_id", max_length=64)
        family = self.line.offer_family
        family_choices = [("", "—")] + [(value, value) for value in OFFER_FAMILIES]
        if family and family not in OFFER_FAMILIES:
            family_choices.append((family, family))
        self.fields["offer_family"] = forms.ChoiceField(
            label=label_for("offer_family"),
            help_text=HELP["offer_family"],
            required=False,
            choices=family_choices,
        )
        self.fields["offer_technology"] = _text("offer_technology", max_length=32)
        self.fields["option_ids"] = forms.MultipleChoiceField(
            label=label_for("option_ids"),
            help_text=HELP["option_ids"],
            required=False,
            choices=KNOWN_OPTIONS,
            widget=forms.CheckboxSelectMultiple,
        )
        self.fields["other_option_ids"] = _text("other_option_ids", max_length=255)
        self.initial["option_ids"] = [option for option in current_options if option in known]
        self.initial["other_option_ids"] = ", ".join(
            option for option in current_options if option not in known
        )
        self.fields["project_id"] = project_field(
            self.line.project_id, sent=self.sent("project_id")
        )
        self.fields["external_id"] = _text("external_id", max_length=64)
        self.offer_fixed = offer_is_fixed(self.line)
        if self.offer_fixed:
            self._fix_offer()

    def _fix_offer(self) -> None:
        """Show the offer as fixed. Not a Django "disabled" field, which would drop a value
        that still arrives (from a page opened before Covage had the line): such a value
        goes to the service, which refuses it on the field instead of losing it silently.
        A browser does not send disabled inputs, so a missing value means "unchanged"."""
        for name in OFFER_FIELDS:
            field = self.fields[name]
            field.help_text = OFFER_FIXED_HELP
            field.widget.attrs["disabled"] = True
        if self.is_bound and any(name not in self.data for name in OFFER_FIELDS):
            self.data = self.data.copy()
            for name in OFFER_FIELDS:
                if name not in self.data:
                    self.data[name] = getattr(self.line, name)

    def replace_url(self) -> str:
        """The replacement page, with the offer typed here when it differs from the line's."""
        url = reverse("orders:replace_line", args=[self.line.session_id, self.line.pk])
        if self.is_bound:
            typed = {name: str(self.data.get(name, "")).strip() for name in OFFER_FIELDS}
            if any(typed[name] != getattr(self.line, name) for name in OFFER_FIELDS):
                url += "?" + urlencode(typed)
        return url

    def _replace_action(self) -> list[HTML]:
        if not self.offer_fixed:
            return []
        return [
            HTML(
                format_html(
                    '<p class="mb-3"><a class="btn btn-sm btn-outline-secondary" '
                    'id="replace-line" href="{}">{}</a></p>',
                    self.replace_url(),
                    REPLACE_ACTION,
                )
            )
        ]

    def layout(self) -> Layout:
        return Layout(
            Fieldset(
                "Eligibility result",
                "product_offering_id",
                "product_offering_qualification_item_id",
                "quote_item_id",
            ),
            Fieldset(
                "Offer",
                Row(Column("offer_family"), Column("offer_technology")),
                *self._replace_action(),
                "option_ids",
                "other_option_ids",
            ),
            Fieldset("References", Row(Column("project_id"), Column("external_id"))),
            "version",
        )

    def clean_offer_family(self) -> str:
        return self.cleaned_data["offer_family"].strip().upper()

    def clean_other_option_ids(self) -> list[str]:
        raw = self.cleaned_data.get("other_option_ids", "")
        options = [part.strip() for part in raw.replace(";", ",").split(",")]
        options = [option for option in options if option]
        for option in options:
            if " " in option:
                raise ValidationError(
                    "Separate option ids with commas, for example 7010, 7033.",
                    code="option_format",
                )
        return options

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "option_ids" in cleaned and "other_option_ids" in cleaned:
            chosen = list(cleaned["option_ids"])
            for option in cleaned.pop("other_option_ids"):
                if option not in chosen:
                    chosen.append(option)
            cleaned["option_ids"] = chosen
        else:
            # One half is wrong: keep the options saved before rather than half of them.
            cleaned.pop("option_ids", None)
            cleaned.pop("other_option_ids", None)
        return cleaned

    def clean_project_id(self) -> str:
        return self.cleaned_data.get("project_id", "").strip()


class TechnicalForm(StepForm):
    step = TECHNICAL

    CPE_FIELDS = ("cpe_networking_number", "cpe_serial_number")
    ENNI_FIELDS = ("enni", "enni_2")

    @property
    def dia(self) -> bool:
        return is_dia(self.line)

    @property
    def cpe(self) -> bool:
        return has_cpe_option(self.line)

    @property
    def show_cpe(self) -> bool:
        # Also shown when someone sent CPE values without the option: the message must be seen.
        return self.cpe or any(self.data.get(name) for name in self.CPE_FIELDS)

    def selected_delivery_mode(self) -> str:
        if self.is_bound:
            return self.data.get("delivery_mode", "")
        return self.initial.get("delivery_mode") or ""

    def build_fields(self) -> None:
        family = self.line.offer_family
        stored = referentials.all_ennis()
        modes = referentials.delivery_modes(offer_family=family, stored=stored)
        self.fields["delivery_mode"] = _select_or_text(
            "delivery_mode",
            modes,
            [(mode, mode.replace("_", " ")) for mode in modes.items],
            self.line.delivery_mode,
            sent=self.sent("delivery_mode"),
            unavailable=referentials.DELIVERY_MODES_UNAVAILABLE,
        )
        if self.dia:
            self.notices.append(DIA_NOTICE)
        else:
            ennis = referentials.ennis(
                offer_family=family, delivery_mode=self.selected_delivery_mode(), stored=stored
            )
            values = [(enni.reference, enni.label) for enni in ennis.items]
            for name in self.ENNI_FIELDS:
                self.fields[name] = _select_or_text(
                    name,
                    ennis,
                    values,
                    getattr(self.line, name),
                    sent=self.sent(name),
                    unavailable=referentials.ENNIS_UNAVAILABLE,
                )
            if ennis.available and not ennis.items:
                self.notices.append(
                    "Covage lists no ENNI for this offer family and delivery mode: "
                    "choose another delivery mode, or check the offer family on the Offer step."
                )
        self.fields["vlan_reference"] = forms.IntegerField(
            label=label_for("vlan_reference"),
            help_text=HELP["vlan_reference"],
            required=False,
            validators=[validators.validate_vlan],
            error_messages={"invalid": "Enter the VLAN as a whole number from 1 to 4094."},
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        )
        self.fields["additional_vlan_reference"] = _text("additional_vlan_reference", max_length=32)
        for name in self.CPE_FIELDS:
            self.fields[name] = _text(name, max_length=64)
        self.fields["scheduled_delivery_date"] = forms.DateField(
            label=label_for("scheduled_delivery_date"),
            help_text=HELP["scheduled_delivery_date"],
            required=False,
            validators=[validators.validate_not_in_past],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        )
        self._wire_delivery_mode()

    def _wire_delivery_mode(self) -> None:
        # Changing the delivery mode reloads the ENNI choices (see views.enni_options).
        field = self.fields["delivery_mode"]
        if self.dia or not isinstance(field, forms.ChoiceField):
            return
        field.widget.attrs.update(
            {
                "hx-get": reverse("orders:enni_options", args=[self.line.session_id, self.line.pk]),
                "hx-trigger": "change",
                "hx-target": "#enni-fields",
                "hx-swap": "outerHTML",
                "hx-include": "[name='delivery_mode'],[name='enni'],[name='enni_2']",
                "aria-controls": "enni-fields",
            }
        )

    def layout(self) -> Layout:
        parts: list[Any] = ["delivery_mode"]
        if not self.dia:
            parts.append(
                Div(
                    *self.ENNI_FIELDS,
                    css_id="enni-fields",
                    aria_live="polite",
                )
            )
        parts.append(Row(Column("vlan_reference"), Column("additional_vlan_reference")))
        if self.show_cpe:
            parts.append(
                Fieldset(
                    f"CPE supplied by Covage (option {CPE_OPTION})",
                    Row(Column("cpe_networking_number"), Column("cpe_serial_number")),
                )
            )
        else:
            parts.append(
                HTML(
                    format_html(
                        '<p class="form-text">The CPE fields appear when option {} '
                        "(CPE supplied by Covage) is ticked on the Offer step.</p>",
                        CPE_OPTION,
                    )
                )
            )
        parts.append(Field("scheduled_delivery_date"))
        return Layout(Fieldset("Delivery", *parts), "version")

    def _clean_cpe(self, name: str) -> str:
        value = self.cleaned_data.get(name, "").strip()
        if not self.cpe:
            if value:
                raise ValidationError(CPE_WITHOUT_OPTION, code="cpe_without_option")
            return ""
        return value

    def clean_cpe_networking_number(self) -> str:
        return self._clean_cpe("cpe_networking_number")

    def clean_cpe_serial_number(self) -> str:
        return self._clean_cpe("cpe_serial_number")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.dia:
            # Covage computes the ENNI of a DIA line and replaces any value sent.
            cleaned["enni"] = ""
            cleaned["enni_2"] = ""
        return cleaned

    def step_data(self) -> dict[str, Any]:
        data = super().step_data()
        if self.dia:
            data["enni"] = data["enni_2"] = ""
        if not self.cpe:
            data["cpe_networking_number"] = data["cpe_serial_number"] = ""
        return data


class PhoneField(forms.CharField):
    """A French phone number, stored normalised (E.164)."""

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return ""
        return validators.normalise_phone_number(value)


class CustomerForm(StepForm):
    step = CUSTOMER

    def build_fields(self) -> None:
        self.fields["end_customer_name"] = _text("end_customer_name")
        self.fields["siret_known"] = forms.BooleanField(
            label=label_for("siret_known"), help_text=HELP["siret_known"], required=False
        )
        self.fields["siret"] = forms.CharField(
            label=label_for("siret"),
            help_text=HELP["siret"],
            required=False,
            max_length=20,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        )
        for name in ("customer_order_name", "business_code", "billing_site_ref"):
            self.fields[name] = _text(name, max_length=255 if name == "customer_order_name" else 64)
        for prefix in ("contact1", "contact2"):
            self.fields[f"{prefix}_firstname"] = _text(f"{prefix}_firstname", max_length=100)
            self.fields[f"{prefix}_lastname"] = _text(f"{prefix}_lastname", max_length=100)
            self.fields[f"{prefix}_email_address"] = forms.EmailField(
                label=label_for(f"{prefix}_email_address"),
                required=False,
                error_messages={"invalid": "Enter an e-mail address, for example jean@example.fr."},
                widget=forms.EmailInput(attrs={"autocomplete": "off"}),
            )
            self.fields[f"{prefix}_phone_number"] = PhoneField(
                label=label_for(f"{prefix}_phone_number"),
                help_text=HELP[f"{prefix}_phone_number"],
                required=False,
                max_length=30,
                validators=[validators.validate_phone_number],
                widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            )
        if self.initial.get("siret_known") is None:
            self.initial["siret_known"] = False

    def layout(self) -> Layout:
        return Layout(
            Fieldset(
                "End customer",
                "end_customer_name",
                "siret_known",
                "siret",
                Row(
                    Column("customer_order_name"),
                    Column("business_code"),
                    Column("billing_site_ref"),
                ),
            ),
            Fieldset(
                "On-site contact (needed to confirm)",
                Row(Column("contact1_firstname"), Column("contact1_lastname")),
                Row(Column("contact1_email_address"), Column("contact1_phone_number")),
            ),
            Fieldset(
                "Second contact (optional)",
                Row(Column("contact2_firstname"), Column("contact2_lastname")),
                Row(Column("contact2_email_address"), Column("contact2_phone_number")),
            ),
            "version",
        )

    def clean_siret(self) -> str:
        value = validators.normalise_siret(self.cleaned_data.get("siret", ""))
        if value:
            validators.validate_siret(value)
        return value

    def clean_contact1_email_address(self) -> str:
        return self.cleaned_data.get("contact1_email_address", "").strip()

    def clean_contact2_email_address(self) -> str:
        return self.cleaned_data.get("contact2_email_address", "").strip()


class AddressForm(StepForm):
    step = ADDRESS

    def build_fields(self) -> None:
        self.fields["street_number"] = _text("street_number", max_length=16)
        self.fields["street_number_extension"] = _text("street_number_extension", max_length=16)
        self.fields["street_name"] = _text("street_name")
        self.fields["building_name"] = _text("building_name")
        self.fields["level_number"] = _text("level_number", max_length=16)
        self.fields["postcode"] = forms.CharField(
            label=label_for("postcode"),
            help_text=HELP["postcode"],
            required=False,
            max_length=10,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
        )
        self.fields["city"] = _text("city")
        self.fields["insee_code"] = forms.CharField(
            label=label_for("insee_code"),
            help_text=HELP["insee_code"],
            required=False,
            max_length=10,
            widget=forms.TextInput(attrs={"autocomplete": "off"}),
        )
        for name, check in (
            ("latitude", validators.validate_latitude),
            ("longitude", validators.validate_longitude),
        ):
            self.fields[name] = DecimalCommaFloatField(
                label=label_for(name),
                help_text=HELP[name],
                required=False,
                validators=[check],
                error_messages={"invalid": "Enter decimal degrees, for example 49.4744077."},
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
        self.fields["access_instructions"] = _text("access_instructions", textarea=True)
        self.fields["specific_request"] = _text("specific_request", textarea=True)

    def layout(self) -> Layout:
        return Layout(
            Fieldset(
                "Site address",
                Row(
                    Column("street_number", css_class="col-sm-3"),
                    Column("street_number_extension", css_class="col-sm-3"),
                    Column("street_name", css_class="col-sm-6"),
                ),
                Row(Column("building_name"), Column("level_number")),
                Row(
                    Column("postcode", css_class="col-sm-3"),
                    Column("city", css_class="col-sm-5"),
                    Column("insee_code", css_class="col-sm-4"),
                ),
                Row(Column("latitude"), Column("longitude")),
            ),
            Fieldset("On site", "access_instructions", "specific_request"),
            "version",
        )

    def clean_postcode(self) -> str:
        value = validators.normalise_postcode(self.cleaned_data.get("postcode", ""))
        if value:
            validators.validate_postcode(value)
        return value

    def clean_insee_code(self) -> str:
        value = validators.normalise_insee_code(self.cleaned_data.get("insee_code", ""))
        if value:
            validators.validate_insee_code(value)
        return value


class ReviewForm(StepForm):
    step = REVIEW

    def build_fields(self) -> None:
        self.fields["note"] = _text("note", textarea=True)
        self.fields["technical_note"] = _text("technical_note", textarea=True)

    def layout(self) -> Layout:
        return Layout(Fieldset("Notes", "note", "technical_note"), "version")


STEP_FORMS: dict[str, type[StepForm]] = {
    OFFER.slug: OfferForm,
    TECHNICAL.slug: TechnicalForm,
    CUSTOMER.slug: CustomerForm,
    ADDRESS.slug: AddressForm,
    REVIEW.slug: ReviewForm,
}
assert set(STEP_FORMS) == set(STEPS_BY_SLUG)


def step_form(slug: str, *, line: OrderLine, data: Any = None, **kwargs: Any) -> StepForm:
    return STEP_FORMS[slug](data, line=line, **kwargs)


# --- Replacing a line with another offer ------------------------------------------------------


class ReplaceOfferForm(forms.Form):
    """The offer of the line that replaces one Covage already has (its offer is fixed)."""

    offer_family = forms.ChoiceField(label=_("New offer family"), required=True)
    offer_technology = forms.CharField(
        label=_("New offer technology"),
        required=False,
        max_length=32,
        help_text=_("As the eligibility result gives it, for example FIBDE."),
    )

    def __init__(self, *args: Any, line: OrderLine, **kwargs: Any) -> None:
        self.line = line
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(value, value) for value in OFFER_FAMILIES]
        typed = str(self.initial.get("offer_family") or "").strip().upper()
        for family in (line.offer_family, typed):
            if family and family not in {value for value, _label in choices}:
                choices.append((family, family))
        self.fields["offer_family"].choices = choices

    def clean_offer_family(self) -> str:
        return self.cleaned_data["offer_family"].strip().upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        family = cleaned.get("offer_family")
        technology = cleaned.get("offer_technology", "")
        if family is not None and (family, technology) == (
            self.line.offer_family,
            self.line.offer_technology,
        ):
            raise ValidationError(
                _("The line already has this offer: choose another offer family or technology."),
                code="same_offer",
            )
        return cleaned


# --- Every step at once (the back office's correction page) ----------------------------------


def correction_field_names() -> list[tuple[Step, list[str]]]:
    """The fields of each step on the correction page, in the steps' order."""
    result = []
    for step in STEPS:
        names = list(dict.fromkeys((*step.line_fields, *step.contact_fields)))
        if "option_ids" in names:
            names.insert(names.index("option_ids") + 1, "other_option_ids")
        result.append((step, names))
    return result


class LineCorrection:
    """The five step forms of one line at once: each step's values are checked by its own
    form, exactly as on the step pages, and each form sees the line with the values of the
    steps before it (so that the technical step follows an offer changed in the same save).

    Unlike a step page, nothing is saved while any value is wrong: `errors` then says which.
    """

    def __init__(self, line: OrderLine, data: Any = None) -> None:
        self.forms: list[StepForm] = []
        working = copy.copy(line)
        for step in STEPS:
            form = step_form(step.slug, line=working, data=data)
            self.forms.append(form)
            if data is not None:
                form.is_valid()
                values = form.step_data()
                working = copy.copy(working)
                for name in step.line_fields:
                    setattr(working, name, values[name])

    def fields(self) -> dict[str, forms.Field]:
        """Every field of the steps, by name; one a step does not show for this line (the
        ENNIs of a DIA line) is shown disabled, with the step's notice."""
        fields: dict[str, forms.Field] = {}
        for form, (_step, names) in zip(self.forms, correction_field_names(), strict=True):
            for name in names:
                if name in form.fields:
                    fields[name] = form.fields[name]
                else:
                    fields[name] = forms.CharField(
                        label=label_for(name),
                        required=False,
                        disabled=True,
                        help_text=" ".join(str(notice) for notice in form.notices),
                    )
        return fields

    def initial(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for form in self.forms:
            values.update(
                {name: value for name, value in form.initial.items() if name != "version"}
            )
        return values

    def errors(self) -> dict[str, list[str]]:
        """Messages by field name ("" for the step as a whole)."""
        errors: dict[str, list[str]] = {}
        for form in self.forms:
            for name, messages in form.errors.items():
                if name == "version":
                    continue
                key = "" if name == "__all__" else name
                errors.setdefault(key, []).extend(str(message) for message in messages)
        return errors

    def line_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for form in self.forms:
            values = form.step_data()
            data.update({name: values[name] for name in form.step.line_fields})
        return data

    def contact_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for form in self.forms:
            values = form.step_data()
            data.update({name: values[name] for name in form.step.contact_fields})
        return data


# --- Read-only summary -------------------------------------------------------------------------


def display_value(field: str, value: Any) -> str:
    """A saved value as the review and read-only pages show it."""
    if value in (None, "", []):
        return ""
    if field == "option_ids":
        names = dict(KNOWN_OPTIONS)
        return ", ".join(names.get(str(option), str(option)) for option in value)
    if field == "siret_known":
        return "Yes" if value else "No"
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return str(value)


def step_summary(line: OrderLine, step: Step) -> list[tuple[str, str, str]]:
    """(field, label, value) of every field of a step, for the review and read-only pages."""
    contact: LineContact | None = selectors.first_contact(line)
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for name in step.line_fields:
        if is_dia(line) and name in TechnicalForm.ENNI_FIELDS:
            continue
        rows.append((name, label_for(name), display_value(name, getattr(line, name))))
        seen.add(name)
    for name in step.contact_fields:
        if name in seen:
            continue
        value = getattr(contact, name) if contact else ""
        rows.append((name, label_for(name), display_value(name, value)))
    return rows
