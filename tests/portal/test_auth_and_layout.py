from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from factories import PASSWORD, back_office_user, sales_user

from portal.roles import BACK_OFFICE, SALES, is_back_office

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_with_bootstrap_and_htmx(client):
    response = client.get(reverse("login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in body and 'name="password"' in body
    assert "bootstrap.min.css" in body
    assert "htmx" in body


def test_login_with_accented_name_then_home(client):
    user = sales_user(first_name="Hélène", last_name="Dupré")
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Hélène Dupré" in response.content.decode()


def test_wrong_password_is_explained_on_the_form(client):
    user = sales_user()
    response = client.post(reverse("login"), {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_a_post(client):
    user = sales_user()
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("orders:list")).status_code == 302


def test_back_office_sees_admin_link_sales_does_not(client):
    client.force_login(sales_user())
    assert reverse("admin:index") not in client.get(reverse("orders:list")).content.decode()
    client.force_login(back_office_user())
    assert reverse("admin:index") in client.get(reverse("orders:list")).content.decode()


def test_groups_exist_after_migrate_and_back_office_may_use_admin():
    assert set(Group.objects.values_list("name", flat=True)) >= {SALES, BACK_OFFICE}
    user = back_office_user()
    assert is_back_office(user)
    assert not is_back_office(sales_user())


def test_seed_demo_prints_credentials_once(capsys, settings):
    settings.DEMO_PASSWORD = "démo-pass-123"
    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "username 'sophie', password 'démo-pass-123'" in first
    assert "username 'bruno'" in first
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert "démo-pass-123" not in second
    assert "already exists" in second
