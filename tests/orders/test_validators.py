from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from orders import validators as v


@pytest.mark.parametrize(
    "value",
    [
        "73282932000074",  # a real company's head office (Luhn-valid)
        "732 829 320 00074",  # spaces are tolerated
        "35600000000048",  # La Poste's head office: ordinary Luhn
        "35600000049837",  # a La Poste establishment: digit sum multiple of 5, Luhn fails
    ],
)
def test_valid_siret(value):
    v.validate_siret(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("73282932000075", "siret_checksum"),
        ("7328293200007", "siret_length"),
        ("732829320000744", "siret_length"),
        ("7328293200007A", "siret_format"),
        ("35600000049838", "siret_checksum"),  # La Poste rule broken
    ],
)
def test_invalid_siret(value, code):
    with pytest.raises(ValidationError) as exc:
        v.validate_siret(value)
    assert exc.value.code == code


@pytest.mark.parametrize("value", ["76130", "01000", "20000", "75001", "97411", "98800", " 76 130"])
def test_valid_postcode(value):
    v.validate_postcode(value)


@pytest.mark.parametrize("value", ["7613", "761300", "00100", "96000", "ABCDE", "", "99000"])
def test_invalid_postcode(value):
    with pytest.raises(ValidationError):
        v.validate_postcode(value)


@pytest.mark.parametrize("value", ["76451", "2A004", "2b033", "97411", "97101", "01001", "98735"])
def test_valid_insee_code(value):
    v.validate_insee_code(value)


@pytest.mark.parametrize("value", ["20004", "2C004", "00123", "96001", "97901", "7645", "764511"])
def test_invalid_insee_code(value):
    with pytest.raises(ValidationError):
        v.validate_insee_code(value)


@pytest.mark.parametrize(
    ("typed", "stored", "sent"),
    [
        ("0123456789", "+33123456789", "0123456789"),
        ("01 23 45 67 89", "+33123456789", "0123456789"),
        ("+33 6 12 34 56 78", "+33612345678", "0612345678"),
        ("0033612345678", "+33612345678", "0612345678"),
        ("+32 2 555 12 12", "+3225551212", "+3225551212"),
        ("0692 12 34 56", "+262692123456", "0692123456"),  # La Réunion mobile
    ],
)
def test_phone_numbers_are_normalised(typed, stored, sent):
    assert v.normalise_phone_number(typed) == stored
    assert v.phone_for_covage(stored) == sent


@pytest.mark.parametrize("value", ["012345", "hello", "+33 1 23", "01234567890123"])
def test_invalid_phone_numbers(value):
    with pytest.raises(ValidationError):
        v.validate_phone_number(value)


@pytest.mark.parametrize(("value", "ok"), [(1, True), (4094, True), (0, False), (4095, False)])
def test_vlan_range(value, ok):
    if ok:
        v.validate_vlan(value)
    else:
        with pytest.raises(ValidationError, match="between 1 and 4094"):
            v.validate_vlan(value)


@pytest.mark.parametrize(
    ("lat", "lon", "ok"),
    [(49.47, 1.09, True), (-90, 180, True), (90.1, 0, False), (0, -180.5, False)],
)
def test_coordinates(lat, lon, ok):
    if ok:
        v.validate_latitude(lat)
        v.validate_longitude(lon)
    else:
        with pytest.raises(ValidationError):
            v.validate_latitude(lat)
            v.validate_longitude(lon)


def test_delivery_date_not_in_past():
    today = timezone.localdate()
    v.validate_not_in_past(today)
    v.validate_not_in_past(today + dt.timedelta(days=30))
    with pytest.raises(ValidationError, match="past"):
        v.validate_not_in_past(today - dt.timedelta(days=1))
