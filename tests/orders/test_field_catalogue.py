"""One catalogue of line fields: each field is declared once, on its model, and every place
that names it (the step forms, the check page, the history, Covage's errors and rejection
reasons) shows that same label; the wire payloads follow one declaration of the endpoints."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models
from django.utils.text import capfirst

from covage import schemas
from orders import catalogue, forms, wire
from orders.confirmation import Problem, check_line
from orders.explain import explain
from orders.models import LineContact, LineTerminationError, OrderEvent, OrderLine
from orders.services import save_line_step
from orders.services.errors import InvalidLineError
from orders.steps import ADDRESS, CUSTOMER, STEPS, step_for_field
from orders.views import _problem_groups

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached_referentials")]

STEP_FIELDS = [(step, name) for step in STEPS for name in step.field_names]
LINE_FIELDS = [name for step in STEPS for name in step.line_fields]
CONTACT_FIELDS = [name for step in STEPS for name in step.contact_fields]


def declared(name: str, *, contact: bool = False) -> models.Field[Any, Any]:
    model = LineContact if contact else OrderLine
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


@pytest.fixture
def line(line_factory: Any, contact_factory: Any) -> OrderLine:
    line = line_factory(offer_family="BPE", option_ids=["7021"])
    contact_factory(line=line)
    return line


def test_the_catalogue_reads_the_models_declarations() -> None:
    for name in LINE_FIELDS:
        field = declared(name)
        assert catalogue.model_field(name) is field
        assert catalogue.label(name) == capfirst(str(field.verbose_name))
        assert catalogue.help_text(name) == str(field.help_text)
    for name in CONTACT_FIELDS:
        field = declared(name, contact=True)
        assert catalogue.model_field(name, contact=True) is field
        assert catalogue.label(name, contact=True) == capfirst(str(field.verbose_name))


def test_a_field_on_both_models_reads_the_same() -> None:
    shared = set(LINE_FIELDS) & set(CONTACT_FIELDS)
    assert shared == {"end_customer_name"}
    for name in shared:
        assert declared(name).verbose_name == declared(name, contact=True).verbose_name
        assert declared(name).help_text == declared(name, contact=True).help_text


def test_form_only_fields_are_declared_in_the_catalogue() -> None:
    assert catalogue.label("other_option_ids") == "Other option identifiers"
    assert "separated by commas" in catalogue.help_text("other_option_ids")
    assert catalogue.is_known("other_option_ids")
    assert not catalogue.is_known("no_such_field")
    # A path Covage invented still reads as words.
    assert catalogue.label("no_such_field") == "No such field"


def test_one_wording_for_the_line_reference() -> None:
    assert catalogue.label("external_id") == "Your line reference"
    assert catalogue.label("external_id") == str(
        OrderLine._meta.get_field("external_id").verbose_name
    )


@pytest.mark.parametrize(
    ("step", "name"), STEP_FIELDS, ids=[f"{s.slug}-{n}" for s, n in STEP_FIELDS]
)
def test_every_place_shows_the_same_label(line: OrderLine, step: Any, name: str) -> None:
    """Form label == catalogue label == check page label == model verbose_name."""
    form = forms.step_form(step.slug, line=line)
    contact = name not in step.line_fields
    expected = capfirst(str(declared(name, contact=contact).verbose_name))
    assert str(form.fields[name].label) == expected
    assert catalogue.label(name) == expected
    assert forms.label_for(name) == expected
    # The check page, for a problem on the field.
    problem = Problem(line, name, step_for_field(name), "Wrong.", 0 if contact else None)
    assert problem.label == expected
    (group,) = _problem_groups(line.session, [problem])
    assert group["problems"][0].label == expected
    # Covage's rejection reasons, on the field's path.
    path = f"related_contact_information[0].{name}" if contact else name
    explanation = explain(LineTerminationError(line=line, code="required", property_path=path))
    assert explanation.message.startswith(expected)
    assert (explanation.field, explanation.step) == (name, step)


@pytest.mark.parametrize("step", STEPS, ids=[step.slug for step in STEPS])
def test_forms_take_words_and_lengths_from_the_models(line: OrderLine, step: Any) -> None:
    form = forms.step_form(step.slug, line=line)
    for name in step.field_names:
        field = form.fields[name]
        model_field = catalogue.model_field(name, contact=name not in step.line_fields)
        assert str(field.help_text) == str(model_field.help_text), name
        if isinstance(field, forms.forms.CharField) and model_field.max_length:
            assert field.max_length == model_field.max_length, name
        # The model's own checks run on the form too.
        for validator in catalogue.validators(name):
            assert validator in field.validators, name


def test_a_label_is_the_same_in_the_history(line: OrderLine) -> None:
    save_line_step(
        user=line.session.owner,
        line=line,
        step="offer",
        data={"external_id": "MY-REF", "quote_item_id": "Q-1"},
        version=line.version,
    )
    event = OrderEvent.objects.filter(line=line, action="line_saved").latest("pk")
    assert event.message_text == "Offer: Quote item identifier, Your line reference"


def test_a_covage_error_on_a_field_not_on_the_form_is_named_by_its_label(line: OrderLine) -> None:
    form = forms.step_form("review", line=line)
    form.show_remote_errors({"external_id": ["Already used."]})
    assert form.non_field_errors() == ["Covage: Your line reference: Already used."]


def test_the_check_page_names_a_later_contact_entry(line: OrderLine) -> None:
    problem = Problem(line, "postcode", step_for_field("postcode", contact_index=1), "Bad.", 1)
    assert problem.label_with_entry == "Postcode (contact entry 2)"
    first = Problem(line, "postcode", step_for_field("postcode", contact_index=0), "Bad.", 0)
    assert first.label_with_entry == "Postcode"


# --- Format checks live on the model -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "wrong", "message"),
    [
        ("siret", "73282932000075", "not valid"),
        ("postcode", "00100", "French postcode"),
        ("insee_code", "20004", "INSEE code"),
        ("contact1_phone_number", "12", "phone number"),
        ("latitude", 91.0, "between -90 and 90"),
        ("longitude", -181.0, "between -180 and 180"),
    ],
)
def test_contact_formats_are_the_models(
    line: OrderLine, name: str, wrong: Any, message: str
) -> None:
    step = CUSTOMER if name in CUSTOMER.field_names else ADDRESS
    # The form says it...
    form = forms.step_form(
        step.slug, line=line, data={"version": str(line.version), name: str(wrong)}
    )
    assert message in " ".join(form.errors[name])
    # ...the service refuses it from any other caller...
    with pytest.raises(InvalidLineError) as refused:
        save_line_step(
            user=line.session.owner,
            line=line,
            step=step.slug,
            data={name: wrong},
            version=line.version,
        )
    assert message in " ".join(refused.value.field_errors[name])
    # ...and the confirmation check, with the same words, on a value stored anyhow.
    LineContact.objects.filter(line=line).update(**{name: wrong})
    line = OrderLine.objects.prefetch_related("contacts").get(pk=line.pk)
    problems = [problem for problem in check_line(line) if problem.field == name]
    assert [message in problem.message for problem in problems] == [True]


@pytest.mark.parametrize(("vlan", "valid"), [(1, True), (4094, True), (0, False), (4095, False)])
def test_the_vlan_range_is_the_models(line: OrderLine, vlan: int, valid: bool) -> None:
    field = declared("vlan_reference")
    if valid:
        field.run_validators(vlan)
    else:
        with pytest.raises(Exception, match="between 1 and 4094"):
            field.run_validators(vlan)
    form = forms.step_form(
        "technical", line=line, data={"version": str(line.version), "vlan_reference": str(vlan)}
    )
    assert form.is_valid() is valid
    if not valid:
        # One message: the field's own range, not the column's bounds as well.
        assert form.errors["vlan_reference"] == ["A VLAN number is between 1 and 4094."]


def test_a_typed_spelling_is_normalised_before_its_length_is_checked(line: OrderLine) -> None:
    form = forms.step_form(
        "customer",
        line=line,
        data={
            "version": str(line.version),
            "siret": "732 829 320 00074",  # 17 characters typed, 14 stored
            "contact2_phone_number": "+33 (0)1 23 45 67 89",
        },
    )
    assert form.is_valid(), form.errors
    assert form.step_data()["siret"] == "73282932000074"
    assert form.step_data()["contact2_phone_number"] == "+33123456789"
    assert "maxlength" not in form.fields["siret"].widget.attrs
    one = forms.step_form(
        "address", line=line, data={"version": str(line.version), "postcode": "761300"}
    )
    assert one.errors["postcode"] == ["Enter a French postcode of 5 digits, for example 76130."]


# --- The wire declaration ----------------------------------------------------------------------


def test_every_line_field_people_fill_is_a_row_of_the_tables() -> None:
    assert set(wire.LINE_FIELDS) == set(LINE_FIELDS)
    for name in wire.LINE_FIELDS:
        declared(name)  # a field of the line, under the table's name
    assert set(wire.CONTACT_FIELDS) == set(CONTACT_FIELDS)
    for name in wire.CONTACT_FIELDS:
        declared(name, contact=True)


def test_the_endpoints_field_sets_come_from_one_declaration() -> None:
    assert schemas.LinePayload.field_names() == wire.LINE_CREATE_FIELDS
    assert schemas.LinePayload.update_field_names() == wire.LINE_UPDATE_FIELDS
    assert wire.LINE_CREATE_FIELDS - wire.LINE_UPDATE_FIELDS == schemas.OFFER_FIELDS
    assert {"offer_family", "offer_technology"} == schemas.OFFER_FIELDS


def test_line_payload_carries_every_row(line: OrderLine) -> None:
    payload = wire.line_payload(line, line.session)
    body = payload.to_wire()
    assert set(body) | {"vlan_reference", "siret_known", "scheduled_delivery_date"} == set(
        wire.LINE_CREATE_FIELDS
    )
    for name in wire.LINE_FIELDS:
        if name not in ("option_ids", "project_id"):
            assert getattr(payload, name) == getattr(line, name), name
    assert body["option_ids"] == ["7021"]
    assert body["related_contact_information"][0]["postcode"] == "76130"
    # The PATCH body of the same line has no offer.
    assert set(payload.to_wire(only=wire.LINE_UPDATE_FIELDS)) == set(wire.LINE_UPDATE_FIELDS)
