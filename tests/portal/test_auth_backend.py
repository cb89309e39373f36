"""portal.auth.PortalBackend: the request's user comes with their roles and second factor, in
one query, as fresh as the request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from factories import UserFactory, back_office_user, sales_user

from portal.auth import PortalBackend
from portal.roles import BACK_OFFICE, is_back_office, is_sales
from portal.security import owes_second_factor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("make", "sales", "back_office"),
    [
        (sales_user, True, False),
        (back_office_user, False, True),
        (UserFactory, False, False),
    ],
)
@pytest.mark.parametrize(("device", "owes"), [(None, None), (False, None), (True, "verify")])
def test_one_query_answers_the_roles_and_the_second_factor(
    make, sales, back_office, device, owes, django_assert_num_queries, settings
):
    # Staff without a device would be sent to enrol: not what this test is about.
    settings.PORTAL_REQUIRE_STAFF_2FA = False
    user = make()
    if device is not None:
        TOTPDevice.objects.create(user=user, name="phone", confirmed=device)
    with django_assert_num_queries(1):
        loaded = PortalBackend().get_user(user.pk)
        assert (is_sales(loaded), is_back_office(loaded)) == (sales, back_office)
        target = owes_second_factor(loaded)
    assert target == ("two_factor_verify" if owes else None)


def test_an_unknown_or_inactive_user_is_nobody():
    user = sales_user()
    assert PortalBackend().get_user(user.pk + 1000) is None
    assert PortalBackend().get_user("not-an-id") is None
    # The session keeps the id as text.
    assert PortalBackend().get_user(str(user.pk)) == user
    user.is_active = False
    user.save()
    assert PortalBackend().get_user(user.pk) is None


def test_a_change_of_role_or_device_counts_from_the_next_request(client):
    user = sales_user()
    client.force_login(user)
    assert reverse("reconciliation:list") not in client.get(reverse("orders:list")).text

    user.groups.add(Group.objects.get(name=BACK_OFFICE))
    assert reverse("reconciliation:list") in client.get(reverse("orders:list")).text

    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    gated = client.get(reverse("orders:list"))
    assert gated.status_code == 302
    assert gated["Location"].startswith(reverse("two_factor_verify"))
