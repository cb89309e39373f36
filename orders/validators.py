"""Format checks for what a salesperson types, and the values that go with them.

Each validator raises django.core.exceptions.ValidationError with a message written for the
person at the keyboard, and the `normalise_*` helpers return the form we store. The model
fields declare the checks of their values (orders/models.py), so that the forms, the services
and the confirmation check all run the same ones; the rules that only apply when a session is
confirmed live in orders/confirmation.py.
"""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.fr import siret as stdnum_siret

VLAN_MIN, VLAN_MAX = 1, 4094

# Metropolitan postcodes run from 01000 to 95999 (Corsica uses 20xxx); overseas ones start
# with 97 or 98. 00xxx and 96xxx do not exist.
_POSTCODE_RE = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-5]|97|98)\d{3}$")
# INSEE commune codes: department (01-19, 21-95, 2A/2B for Corsica) + 3 digits, or an overseas
# department/collectivity (971-978, 984-989) + 2 digits. "20" alone is no longer a department.
_INSEE_RE = re.compile(
    r"^(?:(?:0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5])\d{3}|2[AB]\d{3}|97[1-8]\d{2}|98[4-9]\d{2})$"
)


def normalise_siret(value: str) -> str:
    return stdnum_siret.compact(value or "")


def validate_siret(value: str) -> None:
    """14 digits with the Luhn check; La Poste's establishments use their own rule."""
    try:
        stdnum_siret.validate(value)
    except stdnum_errors.InvalidLength as exc:
        raise ValidationError(
            _("A SIRET number has 14 digits (9 for the SIREN, then 5 for the establishment)."),
            code="siret_length",
        ) from exc
    except stdnum_errors.InvalidFormat as exc:
        raise ValidationError(
            _("A SIRET number contains digits only."), code="siret_format"
        ) from exc
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(
            _("This SIRET number is not valid: check for a mistyped digit."), code="siret_checksum"
        ) from exc


def normalise_postcode(value: str) -> str:
    return re.sub(r"\s+", "", value or "")


def validate_postcode(value: str) -> None:
    if not _POSTCODE_RE.match(normalise_postcode(value)):
        raise ValidationError(
            _("Enter a French postcode of 5 digits, for example 76130."), code="postcode"
        )


def normalise_insee_code(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_insee_code(value: str) -> None:
    if not _INSEE_RE.match(normalise_insee_code(value)):
        raise ValidationError(
            _(
                "Enter the commune's 5-character INSEE code (not its postcode), "
                "for example 76451, 2A004 or 97411."
            ),
            code="insee_code",
        )


# Metropolitan France first, then the overseas departments and collectivities whose numbers
# are dialled like French ones (0692... for La Réunion).
FRENCH_PHONE_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF")


def parse_phone_number(value: str) -> phonenumbers.PhoneNumber:
    for region in FRENCH_PHONE_REGIONS:
        try:
            candidate = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(
                _("Enter a phone number, for example 01 23 45 67 89 or +33 1 23 45 67 89."),
                code="phone_format",
            ) from exc
        if phonenumbers.is_valid_number(candidate):
            return candidate
    raise ValidationError(
        _("This phone number does not exist: check the number of digits."), code="phone_invalid"
    )


def validate_phone_number(value: str) -> None:
    parse_phone_number(value)


def normalise_phone_number(value: str) -> str:
    """Stored as E.164 (+33123456789) so that one number has one spelling."""
    if not value:
        return ""
    number = parse_phone_number(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_for_covage(value: str) -> str:
    """French numbers (overseas included) go out in the national form of the documents'
    examples (0123456789), others in E.164."""
    if not value:
        return ""
    number = parse_phone_number(value)
    if phonenumbers.region_code_for_number(number) in FRENCH_PHONE_REGIONS:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(ch for ch in national if ch.isdigit())
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_vlan(value: int | None) -> None:
    if value is not None and not VLAN_MIN <= value <= VLAN_MAX:
        raise ValidationError(
            _("A VLAN number is between %(min)s and %(max)s."),
            code="vlan_range",
            params={"min": VLAN_MIN, "max": VLAN_MAX},
        )


def validate_latitude(value: float | None) -> None:
    if value is not None and not -90 <= value <= 90:
        raise ValidationError(_("A latitude is between -90 and 90 degrees."), code="latitude")


def validate_longitude(value: float | None) -> None:
    if value is not None and not -180 <= value <= 180:
        raise ValidationError(_("A longitude is between -180 and 180 degrees."), code="longitude")


def validate_not_in_past(value: dt.date | None) -> None:
    if value is not None and value < timezone.localdate():
        raise ValidationError(_("The delivery date cannot be in the past."), code="date_in_past")
