"""TOTP second factor: enrolment with a QR code, the code after the password, the staff rule."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from factories import PASSWORD, back_office_user, sales_user

from portal.roles import BACK_OFFICE

pytestmark = pytest.mark.django_db


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the user's app shows now (or `steps_ahead` periods later)."""
    if steps_ahead == 0:
        return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"
    generator = TOTP(device.bin_key, step=device.step, digits=device.digits)
    generator.time = time.time() + steps_ahead * device.step
    return f"{generator.token():06d}"


def password_login(client, user, next_url=None):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


@pytest.fixture
def no_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_staff_enrols_with_the_qr_code_and_a_code(client, no_throttle):
    user = back_office_user()
    client.force_login(user)
    page = client.get(reverse("two_factor_enrol"))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    body = page.content.decode()
    assert reverse("two_factor_qr") in body
    assert page.context["secret"].replace(" ", "") in device.config_url

    qr = client.get(reverse("two_factor_qr"))
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content
    assert "no-store" in qr["Cache-Control"]

    wrong = client.post(reverse("two_factor_enrol"), {"token": "000000"})
    if code(device) != "000000":
        assert wrong.status_code == 200
        assert "This code is not valid" in wrong.content.decode()
        assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    done = client.post(reverse("two_factor_enrol"), {"token": code(device)})
    assert done.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    # This session has just proven the device: no second prompt.
    assert client.get(reverse("orders:list")).status_code == 200
    status = client.get(reverse("two_factor_enrol"))
    assert "Two-factor authentication is on" in status.content.decode()


def test_login_asks_a_user_with_a_device_for_a_code(client, no_throttle):
    user = sales_user()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = password_login(client, user, next_url="/orders/")
    assert response.status_code == 302

    gated = client.get(reverse("orders:list"))
    assert gated.status_code == 302
    assert gated["Location"] == reverse("two_factor_verify") + "?next=%2Forders%2F"
    # The admin is behind the same gate.
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("two_factor_verify"))

    verify_url = gated["Location"]
    assert client.get(verify_url).status_code == 200
    wrong = client.post(verify_url, {"token": "12345a"})
    assert wrong.status_code == 200
    assert "digits only" in wrong.content.decode()

    ok = client.post(verify_url, {"token": code(device), "next": "/orders/"})
    assert ok.status_code == 302
    assert ok["Location"] == "/orders/"
    assert client.get(reverse("orders:list")).status_code == 200


def test_a_code_is_used_once_and_wrong_codes_are_throttled(client):
    user = sales_user()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_login(client, user)
    used = code(device)
    assert client.post(reverse("two_factor_verify"), {"token": used}).status_code == 302
    client.post(reverse("logout"))

    password_login(client, user)
    replay = client.post(reverse("two_factor_verify"), {"token": used})
    assert "This code is not valid" in replay.content.decode()
    # Right after a failure even the next right code waits (django-otp's back-off).
    throttled = client.post(reverse("two_factor_verify"), {"token": code(device, 1)})
    assert "Too many wrong codes" in throttled.content.decode()
    assert client.get(reverse("orders:list")).status_code == 302


def test_verification_redirects_only_to_this_site(client, no_throttle):
    user = sales_user()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_login(client, user)
    response = client.post(
        reverse("two_factor_verify"), {"token": code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_production_makes_staff_enrol_before_anything_else(client, settings, no_throttle):
    settings.PORTAL_REQUIRE_STAFF_2FA = True
    staff = back_office_user()
    client.force_login(staff)
    gated = client.get(reverse("orders:list"))
    assert gated["Location"] == reverse("two_factor_enrol") + "?next=%2Forders%2F"
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("two_factor_enrol"))
    enrol = client.get(gated["Location"])
    assert "needs a second factor" in enrol.content.decode()
    device = TOTPDevice.objects.get(user=staff)
    done = client.post(gated["Location"], {"token": code(device), "next": "/orders/"})
    assert done["Location"] == "/orders/"
    assert client.get(reverse("admin:index")).status_code == 200
    # Required: it cannot be turned off.
    client.post(reverse("two_factor_disable"), {"token": code(device, 1)})
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()


def test_sales_are_not_forced_but_may_enrol_and_turn_it_off(client, settings, no_throttle):
    settings.PORTAL_REQUIRE_STAFF_2FA = True
    user = sales_user()
    client.force_login(user)
    assert client.get(reverse("orders:list")).status_code == 200
    client.get(reverse("two_factor_enrol"))
    device = TOTPDevice.objects.get(user=user)
    client.post(reverse("two_factor_enrol"), {"token": code(device)})
    response = client.post(reverse("two_factor_disable"), {"token": code(device, 1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_not_required_outside_production_by_default(settings, client):
    assert settings.PORTAL_REQUIRE_STAFF_2FA is False
    client.force_login(back_office_user())
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_user_stuck_at_the_code_can_log_out(client):
    user = sales_user()
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_login(client, user)
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_back_office_can_remove_a_device_but_not_read_or_add_one():
    group = Group.objects.get(name=BACK_OFFICE)
    granted = set(
        group.permissions.filter(content_type__app_label="otp_totp").values_list(
            "codename", flat=True
        )
    )
    assert granted == {"view_totpdevice", "delete_totpdevice"}
    assert Permission.objects.filter(
        group=group, content_type__app_label="axes", codename="delete_accessattempt"
    ).exists()
