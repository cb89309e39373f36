"""The forms of order entry: a new session, the session list's filters, and one form per step
of a line.

Step forms are built from the catalogue of line fields (orders/catalogue.py): each field is
its model field's own form field, so its label, help text, length and format checks are the
model's declaration; a form only says what differs (choices from Covage's stored lists, the
decimal comma, normalised spellings, widgets). They check formats only: a draft may be
partial, so nothing is required before the confirmation check (orders/confirmation.py).
Their cleaned data uses the model field names of the step (orders/steps.py), which is what
`services.save_line_step` takes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlencode

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from orders import catalogue, referentials, selectors, validators
from orders.confirmation import CPE_OPTION, has_cpe_option, is_dia
from orders.models import LineContact, OrderLine, OrderSession, SyncStatus
from orders.selectors import SESSION_REMOTE_STATES
from orders.services.drafts import OFFER_FIELDS, offer_is_fixed
from orders.steps import (
    ADDRESS,
    CONTACT_ENTRIES,
    CUSTOMER,
    OFFER,
    PERSON_FIELDS,
    REVIEW,
    STEPS,
    STEPS_BY_SLUG,
    TECHNICAL,
    Step,
)

# Options a salesperson picks from; any other option id is typed in "Other options".
KNOWN_OPTIONS = ((CPE_OPTION, _("CPE supplied by Covage (7021)")),)
OFFER_FAMILIES = ("BPE", "BPEA", "DIA")

DIA_NOTICE = _("Covage sets the ENNI for the DIA offer: the ENNI fields are left empty.")
NO_ENNI_NOTICE = _(
    "Covage lists no ENNI for this offer family and delivery mode: choose another delivery "
    "mode, or check the offer family on the Offer step."
)
CPE_HINT = _(
    "The CPE fields appear when option 7021 (CPE supplied by Covage) is ticked on the Offer step."
)
OFFER_FIXED_HELP = _(
    "Covage cannot change the offer of a line it already has. To order another offer, "
    "replace the line."
)
REPLACE_ACTION = _("Replace the line with another offer")
CPE_WITHOUT_OPTION = _(
    "CPE details only apply with option 7021 (CPE supplied by Covage): "
    "tick it on the Offer step first, or leave this empty."
)
OPTION_FORMAT = _("Separate option ids with commas, for example 7010, 7033.")
NOT_LISTED = _("%(value)s (not in Covage's list)")
NOT_LISTED_ERROR = _(
    "%(value)s is not in Covage's list: choose one of the list, or leave it empty."
)
# The name Covage's field errors start with, on the field they concern.
FROM_COVAGE = _("Covage: %(message)s")
FROM_COVAGE_ON = _("Covage: %(field)s: %(message)s")


def label_for(field: str) -> str:
    """A line or contact field's label (orders.catalogue), for the pages that name fields."""
    return catalogue.label(field)


# --- Fields ------------------------------------------------------------------------------------


class FirstErrorOnly(forms.Field):
    """One message per field: the first check that fails. The field's own format check comes
    first (a six-digit postcode is not a French postcode; that it is also too long adds
    nothing)."""

    def run_validators(self, value: Any) -> None:
        if value in self.empty_values:
            return
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as exc:
                if hasattr(exc, "code") and exc.code in self.error_messages:
                    exc.message = self.error_messages[exc.code]
                raise ValidationError(exc.error_list) from exc


class NormalisedCharField(FirstErrorOnly, forms.CharField):
    """Text stored in one spelling (a SIRET without spaces, a phone number in E.164): the
    typed value is normalised before its checks, so that the length checked is the stored
    one, and the input takes any spelling of it, however long."""

    def __init__(self, *, normalise: Callable[[str], str], **kwargs: Any) -> None:
        self.normalise = normalise
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return self.normalise(text) if text else ""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class PhoneField(NormalisedCharField):
    """A French phone number, stored normalised (E.164)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(normalise=validators.normalise_phone_number, **kwargs)


class DecimalCommaFloatField(FirstErrorOnly, forms.FloatField):
    """A float that also accepts the French decimal comma (49,4744)."""

    def to_python(self, value: Any) -> float | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


class WholeNumberField(FirstErrorOnly, forms.IntegerField):
    """A whole number whose own range check speaks first (a VLAN is from 1 to 4094)."""


def described(name: str) -> dict[str, Any]:
    """A catalogue field's words, for a form field of another kind than its model field's
    (a choice among Covage's stored values): its label and help text, never required (a
    draft may be partial)."""
    return {
        "label": catalogue.label(name),
        "help_text": catalogue.help_text(name),
        "required": False,
    }


def field_for(name: str, **overrides: Any) -> forms.Field:
    """The form field of a catalogue field: its model field's own form field (label, help
    text, max_length, widget), with the format checks and messages the model declares, never
    required (a draft may be partial). `overrides` say what differs on the form (a form
    class that normalises, a widget)."""
    model_field = catalogue.model_field(name)
    kwargs: dict[str, Any] = {
        "required": False,
        "validators": catalogue.validators(name),
        **overrides,
    }
    messages = catalogue.error_messages(name)
    if messages:
        kwargs["error_messages"] = {**messages, **overrides.get("error_messages", {})}
    field = model_field.formfield(**kwargs)
    if field is None:  # pragma: no cover - only non-editable model fields have none
        raise ValueError(f"{name} has no form field")
    return field


def _textarea() -> forms.Textarea:
    return forms.Textarea(attrs={"rows": 3})


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
    help_text = catalogue.help_text(name) if help_text is None else help_text
    if not referential.available:
        return field_for(
            name,
            help_text=format_lazy("{} {}", unavailable, help_text) if help_text else unavailable,
        )
    return ListedChoiceField(
        **{**described(name), "help_text": help_text},
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


def _session_model_field(name: str) -> models.Field[Any, Any]:
    model_field = OrderSession._meta.get_field(name)
    if not isinstance(model_field, models.Field):  # pragma: no cover - a relation
        raise TypeError(f"{name} is not a field of an order session")
    return model_field


def session_field(name: str, **overrides: Any) -> forms.Field:
    """The form field of an OrderSession field, declared on the model like a line's."""
    field = _session_model_field(name).formfield(**overrides)
    if field is None:  # pragma: no cover - only non-editable model fields have none
        raise ValueError(f"{name} has no form field")
    return field


class NewSessionForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not the model's generated default: left empty, the portal numbers the session.
        self.fields["external_id"] = session_field(
            "external_id",
            required=False,
            initial=None,
            show_hidden_initial=False,
            help_text=_("Leave empty to let the portal number it."),
        )
        self.fields["project_id"] = project_field(
            sent=self.data.get("project_id", "") if self.is_bound else "",
            help_text=_session_model_field("project_id").help_text,
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_external_id(self) -> str:
        external_id = str(self.cleaned_data["external_id"]).strip()
        if external_id and selectors.external_id_taken(external_id):
            raise ValidationError(
                _(
                    "An order session with this external id already exists: choose another "
                    "one, or leave it empty to let the portal number it."
                ),
                code="external_id_taken",
            )
        return external_id

    def clean_project_id(self) -> str:
        return str(self.cleaned_data.get("project_id", "")).strip()


# The empty choice of a filter: any value.
ANY = pgettext_lazy("filter", "Any")


class SessionFilterForm(forms.Form):
    """The sessions list's search and filters; invalid values are ignored, never an error."""

    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("External id, customer, reference…")}
        ),
    )
    remote_state = forms.ChoiceField(
        label=_("Covage state"),
        required=False,
        choices=[("", ANY)] + [(state, state.replace("_", " ")) for state in SESSION_REMOTE_STATES],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    sync_status = forms.ChoiceField(
        label=_("Sync status"),
        required=False,
        choices=[("", ANY), *SyncStatus.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    date_from = forms.DateField(
        label=_("Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    date_to = forms.DateField(
        label=_("Created until"),
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
    line's version when the form was opened, so that a concurrent save is detected.

    Each field of the step is its catalogue field's form field (`field_for`): `overrides`
    say what differs on the form (a form class that normalises, a widget), and `make_field`
    builds the fields of another kind (choices among Covage's stored values)."""

    step: Step
    overrides: ClassVar[dict[str, dict[str, Any]]] = {}

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, line: OrderLine, **kwargs: Any) -> None:
        self.line = line
        self.contact = selectors.first_contact(line)
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {**self.saved_values(), "version": line.version, **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        self.notices: list[Any] = []
        self.build_fields()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = self.layout()

    def build_fields(self) -> None:
        for name in self.step.field_names:
            field = self.make_field(name)
            if field is not None:
                self.fields[name] = field

    def make_field(self, name: str) -> forms.Field | None:
        """The form field of `name`, or None to leave it out of this line's form."""
        return field_for(name, **self.overrides.get(name, {}))

    # Subclasses: their layout.
    def layout(self) -> Layout:
        return Layout(*self.fields)

    @property
    def cleaned(self) -> dict[str, Any]:
        """The values that passed their checks so far (none before validation)."""
        return getattr(self, "cleaned_data", None) or {}

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
        cleaned = self.cleaned
        saved = self.saved_values()
        data: dict[str, Any] = {}
        for name in self.step.field_names:
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
            if name.startswith(f"{CONTACT_ENTRIES}-"):
                continue  # a further contact entry's: on the formset (contact_entries)
            target = name if name in self.fields else None
            for message in messages:
                if target is None and name not in ("", "non_field_errors"):
                    text = FROM_COVAGE_ON % {"field": label_for(name), "message": message}
                else:
                    text = FROM_COVAGE % {"message": message}
                self.add_error(target, text)


def _empty_if_none(name: str, value: Any) -> Any:
    """The saved value, or what the field holds when nothing was typed (None, "" or [])."""
    if value is not None:
        return value
    return catalogue.empty_value(name)


class OfferForm(StepForm):
    step = OFFER

    def make_field(self, name: str) -> forms.Field | None:
        if name == "offer_family":
            family = self.line.offer_family
            choices = [("", "—")] + [(value, value) for value in OFFER_FAMILIES]
            if family and family not in OFFER_FAMILIES:
                choices.append((family, family))
            return forms.ChoiceField(**described(name), choices=choices)
        if name == "option_ids":
            return forms.MultipleChoiceField(
                **described(name), choices=KNOWN_OPTIONS, widget=forms.CheckboxSelectMultiple
            )
        if name == "project_id":
            return project_field(self.line.project_id, sent=self.sent(name))
        return super().make_field(name)

    def build_fields(self) -> None:
        super().build_fields()
        self.fields["other_option_ids"] = field_for("other_option_ids")
        current_options = [str(option) for option in self.line.option_ids or []]
        known = {value for value, _label in KNOWN_OPTIONS}
        self.initial["option_ids"] = [option for option in current_options if option in known]
        self.initial["other_option_ids"] = ", ".join(
            option for option in current_options if option not in known
        )
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
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
            for name in OFFER_FIELDS:
                if name not in data:
                    data[name] = getattr(self.line, name)
            self.data = data

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
                _("Eligibility result"),
                "product_offering_id",
                "product_offering_qualification_item_id",
                "quote_item_id",
            ),
            Fieldset(
                _("Offer"),
                Row(Column("offer_family"), Column("offer_technology")),
                *self._replace_action(),
                "option_ids",
                "other_option_ids",
            ),
            Fieldset(_("References"), Row(Column("project_id"), Column("external_id"))),
            "version",
        )

    def clean_offer_family(self) -> str:
        return str(self.cleaned["offer_family"]).strip().upper()

    def clean_other_option_ids(self) -> list[str]:
        raw = str(self.cleaned.get("other_option_ids", ""))
        options = [part.strip() for part in raw.replace(";", ",").split(",")]
        options = [option for option in options if option]
        for option in options:
            if " " in option:
                raise ValidationError(OPTION_FORMAT, code="option_format")
        return options

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
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
        return str(self.cleaned.get("project_id", "")).strip()


class TechnicalForm(StepForm):
    step = TECHNICAL
    overrides: ClassVar[dict[str, dict[str, Any]]] = {
        "vlan_reference": {
            "form_class": WholeNumberField,
            "widget": forms.NumberInput(attrs={"inputmode": "numeric"}),
        },
        "scheduled_delivery_date": {
            "widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "input_formats": ["%Y-%m-%d", "%d/%m/%Y"],
        },
    }

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
            return str(self.data.get("delivery_mode", ""))
        return str(self.initial.get("delivery_mode") or "")

    def build_fields(self) -> None:
        family = self.line.offer_family
        stored = referentials.all_ennis()
        self.modes = referentials.delivery_modes(offer_family=family, stored=stored)
        self.ennis: referentials.Referential | None = None
        if self.dia:
            self.notices.append(DIA_NOTICE)
        else:
            self.ennis = referentials.ennis(
                offer_family=family, delivery_mode=self.selected_delivery_mode(), stored=stored
            )
            if self.ennis.available and not self.ennis.items:
                self.notices.append(NO_ENNI_NOTICE)
        super().build_fields()
        self._wire_delivery_mode()

    def make_field(self, name: str) -> forms.Field | None:
        if name == "delivery_mode":
            return _select_or_text(
                name,
                self.modes,
                [(mode, mode.replace("_", " ")) for mode in self.modes.items],
                self.line.delivery_mode,
                sent=self.sent(name),
                unavailable=referentials.DELIVERY_MODES_UNAVAILABLE,
            )
        if name in self.ENNI_FIELDS:
            if self.ennis is None:
                return None  # Covage computes the ENNI of a DIA line.
            return _select_or_text(
                name,
                self.ennis,
                [(enni.reference, enni.label) for enni in self.ennis.items],
                getattr(self.line, name),
                sent=self.sent(name),
                unavailable=referentials.ENNIS_UNAVAILABLE,
            )
        return super().make_field(name)

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
                    _("CPE supplied by Covage (option 7021)"),
                    Row(Column("cpe_networking_number"), Column("cpe_serial_number")),
                )
            )
        else:
            parts.append(HTML(format_html('<p class="form-text">{}</p>', CPE_HINT)))
        parts.append(Field("scheduled_delivery_date"))
        return Layout(Fieldset(_("Delivery"), *parts), "version")

    def _clean_cpe(self, name: str) -> str:
        value = str(self.cleaned.get(name, "")).strip()
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
        cleaned = super().clean() or {}
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


class CustomerForm(StepForm):
    step = CUSTOMER
    overrides: ClassVar[dict[str, dict[str, Any]]] = {
        # The model's null-able boolean, ticked or not on the form.
        "siret_known": {"form_class": forms.BooleanField},
        "siret": {
            "form_class": NormalisedCharField,
            "normalise": validators.normalise_siret,
            "widget": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        },
        **{
            f"{prefix}_email_address": {
                "widget": forms.EmailInput(attrs={"autocomplete": "off"}),
            }
            for prefix in ("contact1", "contact2")
        },
        **{
            f"{prefix}_phone_number": {
                "form_class": PhoneField,
                "widget": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            }
            for prefix in ("contact1", "contact2")
        },
    }

    def build_fields(self) -> None:
        super().build_fields()
        if self.initial.get("siret_known") is None:
            self.initial["siret_known"] = False

    def layout(self) -> Layout:
        return Layout(
            Fieldset(
                _("End customer"),
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
                _("On-site contact (needed to confirm)"),
                Row(Column("contact1_firstname"), Column("contact1_lastname")),
                Row(Column("contact1_email_address"), Column("contact1_phone_number")),
            ),
            Fieldset(
                _("Second contact (optional)"),
                Row(Column("contact2_firstname"), Column("contact2_lastname")),
                Row(Column("contact2_email_address"), Column("contact2_phone_number")),
            ),
            "version",
        )


# --- The further contact entries (a formset on the customer step) ----------------------------


class ContactEntryForm(forms.Form):
    """The people of one contact entry after the first: its on-site and its second contact.
    The entry's end customer and site are entry 0's (orders.services.drafts)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in PERSON_FIELDS:
            self.fields[name] = field_for(name, **CustomerForm.overrides.get(name, {}))
        self.use_required_attribute = False
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # ORDER and DELETE are added by the formset (BaseContactEntryFormSet.add_fields).
        self.helper.layout = Layout(
            Row(Column("contact1_firstname"), Column("contact1_lastname")),
            Row(Column("contact1_email_address"), Column("contact1_phone_number")),
            Row(Column("contact2_firstname"), Column("contact2_lastname")),
            Row(Column("contact2_email_address"), Column("contact2_phone_number")),
            Row(
                Column("ORDER", css_class="col-sm-3"),
                Column("DELETE", css_class="col-sm-9 pt-sm-4"),
            ),
        )

    def person(self) -> dict[str, Any]:
        """The values to save: the valid ones, and for a wrong one the value saved before."""
        cleaned = getattr(self, "cleaned_data", None) or {}
        return {
            name: cleaned[name] if name in cleaned else (self.initial.get(name) or "")
            for name in PERSON_FIELDS
        }


ENTRY_ORDER = _("Position")
ENTRY_REMOVE = _("Remove this entry")


class BaseContactEntryFormSet(forms.BaseFormSet):  # type: ignore[type-arg,unused-ignore]
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].label = ENTRY_ORDER
            form.fields["ORDER"].help_text = _("Change the numbers to reorder the entries.")
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = ENTRY_REMOVE

    def entries(self) -> list[dict[str, Any]]:
        """The further entries' people in their new order, without the removed ones and the
        added forms left empty."""
        rows: list[tuple[float, int, dict[str, Any]]] = []
        for index, form in enumerate(self.forms):
            cleaned = getattr(form, "cleaned_data", None) or {}
            existing = index < self.initial_form_count()
            if cleaned.get("DELETE"):
                continue
            person = form.person() if isinstance(form, ContactEntryForm) else {}
            if not existing and not any(person.values()):
                continue
            order = cleaned.get("ORDER")
            rows.append((float(order) if order is not None else index + 1, index, person))
        rows.sort(key=lambda row: (row[0], row[1]))
        return [person for _order, _index, person in rows]

    def changed_entries(self) -> list[dict[str, Any]] | None:
        """`entries()` when they differ from the saved ones, else None (nothing to save)."""
        wanted = self.entries()
        saved = [
            {name: values.get(name) or "" for name in PERSON_FIELDS}
            for values in self.initial or []
        ]
        return wanted if wanted != saved else None

    def show_remote_errors(self, errors: dict[str, list[str]]) -> None:
        """Covage's errors about further entries (keys `contacts-<form>-<field>`) on their
        fields, before anything is typed."""
        for key, messages in errors.items():
            prefix, _sep, rest = key.partition("-")
            number, _sep, name = rest.partition("-")
            if prefix != CONTACT_ENTRIES or not number.isdigit() or int(number) >= len(self.forms):
                continue
            form = self.forms[int(number)]
            if form.is_bound:
                continue
            if not hasattr(form, "cleaned_data"):
                form.cleaned_data = {}
                form._errors = ErrorDict()
            for message in messages:
                form.add_error(
                    name if name in form.fields else None, FROM_COVAGE % {"message": message}
                )


MAKE_FIRST = "first_entry"


def with_entry_made_first(data: QueryDict) -> QueryDict:
    """The posted customer step with the people of further entry `first_entry` (a form
    index) swapped with the first entry's: "Make this the first entry" (the one Covage
    needs to confirm). Anything else posted is kept as it is."""
    raw = str(data.get(MAKE_FIRST, ""))
    if not raw.isdigit() or f"{CONTACT_ENTRIES}-TOTAL_FORMS" not in data:
        return data
    swapped = data.copy()
    for name in PERSON_FIELDS:
        other = f"{CONTACT_ENTRIES}-{raw}-{name}"
        swapped[name], swapped[other] = data.get(other, ""), data.get(name, "")
    return swapped


def contact_entries(
    line: OrderLine, data: Any = None, *, add: int = 0
) -> BaseContactEntryFormSet | None:
    """The formset of the line's further contact entries; None for a POST without it (a
    page that did not show it: its entries are left as they are). `add` empty forms follow."""
    if data is not None and f"{CONTACT_ENTRIES}-TOTAL_FORMS" not in data:
        return None
    further = sorted(
        (entry for entry in line.contacts.all() if entry.position > 0),
        key=lambda entry: entry.position,
    )
    initial = [{name: getattr(entry, name) for name in PERSON_FIELDS} for entry in further]
    formset_class = forms.formset_factory(
        ContactEntryForm,
        formset=BaseContactEntryFormSet,
        extra=add,
        can_order=True,
        can_delete=True,
        max_num=20,
    )
    formset = formset_class(data, initial=initial, prefix=CONTACT_ENTRIES)
    if data is not None and not formset.management_form.is_valid():
        return None  # not the page's formset: its entries are left as they are
    assert isinstance(formset, BaseContactEntryFormSet)
    return formset


class AddressForm(StepForm):
    step = ADDRESS
    overrides: ClassVar[dict[str, dict[str, Any]]] = {
        "postcode": {
            "form_class": NormalisedCharField,
            "normalise": validators.normalise_postcode,
            "widget": forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "postal-code"}
            ),
        },
        "insee_code": {
            "form_class": NormalisedCharField,
            "normalise": validators.normalise_insee_code,
            "widget": forms.TextInput(attrs={"autocomplete": "off"}),
        },
        **{
            name: {
                "form_class": DecimalCommaFloatField,
                "widget": forms.TextInput(attrs={"inputmode": "decimal"}),
            }
            for name in ("latitude", "longitude")
        },
        "access_instructions": {"widget": _textarea()},
        "specific_request": {"widget": _textarea()},
    }

    def layout(self) -> Layout:
        return Layout(
            Fieldset(
                _("Site address"),
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
            Fieldset(_("On site"), "access_instructions", "specific_request"),
            "version",
        )


class ReviewForm(StepForm):
    step = REVIEW
    overrides: ClassVar[dict[str, dict[str, Any]]] = {
        "note": {"widget": _textarea()},
        "technical_note": {"widget": _textarea()},
    }

    def layout(self) -> Layout:
        return Layout(Fieldset(_("Notes"), "note", "technical_note"), "version")


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
    offer_technology = field_for("offer_technology", label=_("New offer technology"))

    def __init__(self, *args: Any, line: OrderLine, **kwargs: Any) -> None:
        self.line = line
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(value, value) for value in OFFER_FAMILIES]
        typed = str(self.initial.get("offer_family") or "").strip().upper()
        for family in (line.offer_family, typed):
            if family and family not in {value for value, _label in choices}:
                choices.append((family, family))
        field = self.fields["offer_family"]
        if isinstance(field, forms.ChoiceField):
            field.choices = choices

    def clean_offer_family(self) -> str:
        return str(self.cleaned_data["offer_family"]).strip().upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
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
        names = list(step.field_names)
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
        return ", ".join(str(names.get(str(option), option)) for option in value)
    if field == "siret_known":
        return gettext("Yes") if value else gettext("No")
    if hasattr(value, "strftime"):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
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
    if step.slug == CUSTOMER.slug:
        # The further contact entries' people, each named by its entry.
        further = sorted(
            (entry for entry in line.contacts.all() if entry.position > 0),
            key=lambda entry: entry.position,
        )
        for form_index, entry in enumerate(further):
            for name in PERSON_FIELDS:
                value = display_value(name, getattr(entry, name))
                if value:
                    label = gettext("%(label)s (contact entry %(number)s)") % {
                        "label": label_for(name),
                        "number": form_index + 2,
                    }
                    rows.append((f"{CONTACT_ENTRIES}-{form_index}-{name}", label, value))
    return rows
