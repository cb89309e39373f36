"""TOTP second factor (django-otp): enrol an authenticator app, give a code after the password.

A user has at most one confirmed device. Enrolment keeps an unconfirmed device whose secret is
shown (QR code and text) until a code from the app confirms it. A lost phone: the back office
deletes the device in the admin (OTP_TOTP > TOTP devices) and the user enrols again.
"""

from __future__ import annotations

import io
from base64 import b32encode
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        help_text=_("Six digits, renewed every 30 seconds."),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError(_("The code is made of digits only."))
        return token


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return settings.LOGIN_REDIRECT_URL


def _confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def _required(user: Any) -> bool:
    return bool(settings.PORTAL_REQUIRE_STAFF_2FA and (user.is_staff or user.is_superuser))


def _check(user: Any, device: TOTPDevice, form: TokenForm) -> bool:
    """Verifies the form's code on the device (throttled by django-otp), or explains why not."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        form.add_error(
            "token", gettext("Too many wrong codes: wait a minute, then try the newest code.")
        )
        return False
    if verify_token(user, device.persistent_id, form.cleaned_data["token"]) is None:
        form.add_error(
            "token",
            gettext(
                "This code is not valid. Type the newest code your app shows, and check that "
                "your phone's clock is right."
            ),
        )
        return False
    return True


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The step after the password for a user with a device."""
    user = request.user
    next_url = _next_url(request)
    if user.is_verified():  # type: ignore[union-attr]
        return redirect(next_url)
    device = _confirmed_device(user)
    if device is None:
        return redirect(next_url)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check(user, device, form):
        device.refresh_from_db()
        otp_login(request, device)
        return redirect(next_url)
    return render(request, "two_factor/verify.html", {"form": form, "next": next_url})


def _pending_device(user: Any) -> TOTPDevice:
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").last()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=gettext("Authenticator app"), confirmed=False
        )
    return device


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Shows whether the second factor is on; without a device, enrols one."""
    user = request.user
    next_url = _next_url(request)
    device = _confirmed_device(user)
    if device is not None:
        return render(
            request,
            "two_factor/enrol.html",
            {
                "device": device,
                "required": _required(user),
                "form": TokenForm(),
                "next": next_url,
            },
        )
    pending = _pending_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check(user, pending, form):
        with transaction.atomic():
            pending.refresh_from_db()
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
        otp_login(request, pending)
        messages.success(
            request,
            gettext("Two-factor authentication is on: you will be asked for a code at login."),
        )
        return redirect(next_url)
    secret = b32encode(pending.bin_key).decode()
    return render(
        request,
        "two_factor/enrol.html",
        {
            "device": None,
            "required": _required(user),
            "form": form,
            "secret": _grouped(secret),
            "next": next_url,
        },
    )


@never_cache
def qr_code(request: HttpRequest) -> HttpResponse:
    """The pending device's otpauth:// URL as an SVG QR code (served here: no CDN, no data:
    URL in the page)."""
    pending = TOTPDevice.objects.devices_for_user(request.user, confirmed=False)
    device = pending.order_by("pk").last()
    if device is None:
        raise Http404
    out = io.BytesIO()
    write_qrcode_image(device.config_url, out)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    """Turns the second factor off (with a current code), unless the portal requires it."""
    user = request.user
    device = _confirmed_device(user)
    if device is None:
        return redirect("two_factor_enrol")
    if _required(user):
        messages.error(request, gettext("Your account must keep two-factor authentication."))
        return redirect("two_factor_enrol")
    form = TokenForm(request.POST)
    if form.is_valid() and _check(user, device, form):
        TOTPDevice.objects.filter(user=user).delete()
        messages.success(request, gettext("Two-factor authentication is off."))
        return redirect("two_factor_enrol")
    return render(
        request,
        "two_factor/enrol.html",
        {"device": device, "required": False, "form": form, "next": _next_url(request)},
        status=400,
    )
