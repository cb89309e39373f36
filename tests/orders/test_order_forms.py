"""The step forms on their own: formats only, normalised values, the fields each step holds."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from orders import catalogue, forms, referentials
from orders.steps import STEPS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached_referentials")]


def bound(slug, line, **data):
    form = forms.step_form(slug, line=line, data={"version": str(line.version), **data})
    form.is_valid()
    return form


@pytest.fixture
def line(line_factory):
    return line_factory(enni="", end_customer_name="", offer_family="BPE")


def test_every_step_has_a_form_holding_exactly_its_fields(line):
    for step in STEPS:
        form = forms.step_form(step.slug, line=line)
        names = set(form.fields) - {"version", "other_option_ids"}
        assert names == set(step.line_fields) | set(step.contact_fields), step.slug
        assert form.helper.form_tag is False
        assert form.fields["version"].widget.is_hidden


def test_nothing_is_required_at_step_time(line):
    for step in STEPS:
        form = bound(step.slug, line)
        assert form.is_valid(), (step.slug, form.errors)
        assert not any(field.required for name, field in form.fields.items() if name != "version")


def test_every_field_has_a_plain_label(line):
    for step in STEPS:
        form = forms.step_form(step.slug, line=line)
        for name, field in form.fields.items():
            if name != "version":
                assert field.label == catalogue.label(name)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"siret": "7328293200007"}, "siret", "A SIRET number has 14 digits"),
        ({"siret": "73282932000075"}, "siret", "not valid"),
        ({"contact1_email_address": "jean@"}, "contact1_email_address", "Enter an e-mail"),
        ({"contact2_phone_number": "12"}, "contact2_phone_number", "phone number"),
    ],
)
def test_customer_formats(line, data, field, message):
    form = bound("customer", line, **data)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_customer_values_are_normalised(line):
    form = bound(
        "customer",
        line,
        siret="732 829 320 00074",
        contact1_phone_number="06 12 34 56 78",
        contact2_phone_number="0692 12 34 56",  # La Réunion
        siret_known="on",
        end_customer_name="Société Française",
    )
    assert form.is_valid(), form.errors
    data = form.step_data()
    assert data["siret"] == "73282932000074"
    assert data["contact1_phone_number"] == "+33612345678"
    assert data["contact2_phone_number"] == "+262692123456"
    assert data["siret_known"] is True
    assert data["end_customer_name"] == "Société Française"
    assert "version" not in data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"postcode": "00100"}, "postcode"),
        ({"postcode": "7613"}, "postcode"),
        ({"insee_code": "76130X"}, "insee_code"),
        ({"insee_code": "20004"}, "insee_code"),
        ({"latitude": "91"}, "latitude"),
        ({"longitude": "-181"}, "longitude"),
        ({"latitude": "north"}, "latitude"),
    ],
)
def test_address_formats(line, data, field):
    assert field in bound("address", line, **data).errors


def test_address_values_are_normalised(line):
    form = bound(
        "address",
        line,
        postcode="76 130",
        insee_code="2b033",
        latitude="49,4744077",
        longitude="1.09",
    )
    assert form.is_valid(), form.errors
    data = form.step_data()
    assert (data["postcode"], data["insee_code"]) == ("76130", "2B033")
    assert data["latitude"] == pytest.approx(49.4744077)


@pytest.mark.parametrize(
    ("vlan", "valid"), [("1", True), ("4094", True), ("0", False), ("4095", False), ("12a", False)]
)
def test_vlan_range(line, vlan, valid):
    assert bound("technical", line, vlan_reference=vlan).is_valid() is valid


def test_delivery_date_not_in_the_past(line):
    today = timezone.localdate()
    assert bound("technical", line, scheduled_delivery_date=today.isoformat()).is_valid()
    past = today - dt.timedelta(days=1)
    form = bound("technical", line, scheduled_delivery_date=past.isoformat())
    assert "cannot be in the past" in form.errors["scheduled_delivery_date"][0]


def test_step_data_keeps_the_saved_value_of_a_wrong_field(line, contact_factory):
    contact_factory(line=line, postcode="76130", city="Rouen")
    form = bound("address", line, postcode="999", city="Évreux")
    assert not form.is_valid()
    data = form.step_data()
    assert data["postcode"] == "76130"  # the wrong value is not saved...
    assert data["city"] == "Évreux"  # ...the rest is


def test_options_combine_known_and_other_ids(line):
    form = bound("offer", line, option_ids=["7021"], other_option_ids="7010; 7033, 7021")
    assert form.is_valid(), form.errors
    assert form.step_data()["option_ids"] == ["7021", "7010", "7033"]
    assert "other_option_ids" not in form.step_data()
    form = bound("offer", line, other_option_ids="7010 7033")
    assert "Separate option ids with commas" in form.errors["other_option_ids"][0]


def test_offer_step_shows_saved_options_split(line_factory):
    line = line_factory(option_ids=["7021", "7099"])
    form = forms.step_form("offer", line=line)
    assert form.initial["option_ids"] == ["7021"]
    assert form.initial["other_option_ids"] == "7099"


def test_offer_family_is_a_choice_that_keeps_an_unknown_saved_value(line_factory):
    line = line_factory(offer_family="XYZ")
    form = forms.step_form("offer", line=line)
    values = [value for value, _ in form.fields["offer_family"].choices]
    assert values == ["", "BPE", "BPEA", "DIA", "XYZ"]


def test_dia_form_has_no_enni_and_clears_it(line_factory):
    line = line_factory(offer_family="DIA", enni="CN012345", enni_2="CN012346")
    form = bound("technical", line, enni="CN012345")
    assert "enni" not in form.fields and "enni_2" not in form.fields
    assert forms.DIA_NOTICE in form.notices
    assert form.is_valid()
    data = form.step_data()
    assert (data["enni"], data["enni_2"]) == ("", "")


def test_cpe_fields_rejected_without_7021_required_format_with_it(line_factory):
    without = line_factory(option_ids=[])
    form = bound("technical", without, cpe_serial_number="SR-1")
    assert forms.CPE_WITHOUT_OPTION in form.errors["cpe_serial_number"]
    assert form.show_cpe  # shown, so the message is seen
    assert not forms.step_form("technical", line=without).show_cpe
    with_option = line_factory(option_ids=["7021"])
    form = bound("technical", with_option, cpe_serial_number="SR-1")
    assert form.is_valid() and form.step_data()["cpe_serial_number"] == "SR-1"


def test_enni_choices_follow_family_and_delivery_mode(line_factory):
    bpea = line_factory(offer_family="BPEA", enni="")
    form = forms.step_form("technical", line=bpea)
    assert [value for value, _ in form.fields["enni"].choices] == ["", "CN012346"]
    bpe = line_factory(offer_family="BPE", delivery_mode="ENNI_DEDIE", enni="CN-OLD")
    form = forms.step_form("technical", line=bpe)
    values = [value for value, _ in form.fields["enni"].choices]
    # Only the BPE ports of that delivery mode, plus the saved value that is not listed.
    assert values == ["", "CN012345", "CN-OLD"]
    modes = [value for value, _ in form.fields["delivery_mode"].choices]
    assert modes == ["", "COLLECTE_REGIONALE", "ENNI_DEDIE", "ENNI_MUTUALISE"]
    # An ENNI that is not in the list is refused (a select only takes its choices).
    assert "enni" in bound("technical", bpe, enni="CN-INVENTED").errors


def test_free_text_when_the_referential_is_missing(line, offline_covage, no_referentials):
    form = forms.step_form("technical", line=line)
    assert str(referentials.ENNIS_UNAVAILABLE) in str(form.fields["enni"].help_text)
    assert not hasattr(form.fields["enni"], "choices")
    assert bound("technical", line, enni="CN777").step_data()["enni"] == "CN777"


def test_new_session_form(session_factory):
    session_factory(external_id="TAKEN-1")
    form = forms.NewSessionForm(data={"external_id": " taken-1 ", "project_id": ""})
    assert "already exists" in form.errors["external_id"][0]
    form = forms.NewSessionForm(data={"external_id": "", "project_id": "PRJ-2025-003"})
    assert form.is_valid(), form.errors
    assert form.fields["external_id"].help_text == "Leave empty to let the portal number it."
    form = forms.NewSessionForm(data={"external_id": "", "project_id": "PRJ-INVENTED"})
    assert "project_id" in form.errors


def test_remote_errors_land_on_fields(line):
    form = forms.step_form("address", line=line)
    form.show_remote_errors({"postcode": ["Unknown postcode."], "": ["Broken."]})
    assert form.errors["postcode"] == ["Covage: Unknown postcode."]
    assert form.non_field_errors() == ["Covage: Broken."]


# --- The fixed offer of a line Covage has ----------------------------------------------------


def test_a_line_at_covage_shows_its_offer_fixed(line_factory):
    draft = forms.step_form("offer", line=line_factory())
    assert "disabled" not in draft.fields["offer_family"].widget.attrs
    at_covage = forms.step_form("offer", line=line_factory(covage_id="remote-1"))
    for name in ("offer_family", "offer_technology"):
        field = at_covage.fields[name]
        assert field.widget.attrs["disabled"] is True
        assert not field.disabled  # a value that still arrives reaches the service
        assert "replace the line" in str(field.help_text)


def test_a_fixed_offer_not_sent_keeps_the_lines(line_factory):
    line = line_factory(covage_id="remote-1", offer_family="BPEA", offer_technology="FIBAC")
    form = bound("offer", line, product_offering_id="42")
    assert form.is_valid(), form.errors
    data = form.step_data()
    assert (data["offer_family"], data["offer_technology"]) == ("BPEA", "FIBAC")
    # A value that does arrive is passed on as typed: the service decides.
    form = bound("offer", line, offer_family="DIA", offer_technology="FIBAC")
    assert form.step_data()["offer_family"] == "DIA"
    assert "offer_family=DIA" in form.replace_url()


def test_replace_form_needs_another_offer(line_factory):
    line = line_factory(offer_family="BPE", offer_technology="FIBDE")
    same = forms.ReplaceOfferForm({"offer_family": "BPE", "offer_technology": "FIBDE"}, line=line)
    assert not same.is_valid() and "already has this offer" in str(same.errors)
    other = forms.ReplaceOfferForm({"offer_family": "DIA", "offer_technology": " "}, line=line)
    assert other.is_valid(), other.errors
    assert other.cleaned_data == {"offer_family": "DIA", "offer_technology": ""}
    assert not forms.ReplaceOfferForm({"offer_family": ""}, line=line).is_valid()


# --- Every step at once (the admin's correction) ------------------------------------------------


def test_line_correction_checks_every_step_with_its_own_form(line_factory, contact_factory):
    line = line_factory(offer_family="BPE")
    contact_factory(line=line)
    data = {name: "" for step, names in forms.correction_field_names() for name in names}
    data.update(
        version=str(line.version),
        offer_family="BPE",
        siret="732 829 320 00074",
        postcode="7613",
        vlan_reference="12",
        contact1_phone_number="01 23 45 67 89",
    )
    correction = forms.LineCorrection(line, data)
    errors = correction.errors()
    assert list(errors) == ["postcode"]
    assert "Enter a French postcode of 5 digits" in errors["postcode"][0]
    contact = correction.contact_data()
    assert contact["siret"] == "73282932000074"
    assert contact["contact1_phone_number"] == "+33123456789"
    assert correction.line_data()["vlan_reference"] == 12


def test_line_correction_follows_the_offer_typed_in_the_same_save(line_factory):
    line = line_factory(offer_family="BPE", option_ids=[])
    data = {
        "version": str(line.version),
        "offer_family": "BPE",
        "option_ids": ["7021"],
        "cpe_networking_number": "NET-1",
        "cpe_serial_number": "SR-1",
    }
    correction = forms.LineCorrection(line, data)
    assert correction.errors() == {}
    assert correction.line_data()["cpe_networking_number"] == "NET-1"
    # A DIA offer: the ENNI fields are shown disabled, with the step's notice, and cleared.
    dia = forms.LineCorrection(line, {**data, "offer_family": "DIA", "enni": "CN012345"})
    assert (
        dia.fields()["enni"].disabled and "Covage sets the ENNI" in dia.fields()["enni"].help_text
    )
    assert dia.line_data()["enni"] == ""
