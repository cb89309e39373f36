"""/healthz/: what a load balancer probes. No login, no database, GET and HEAD only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse


def test_the_url_is_healthz():
    assert reverse("healthz") == "/healthz/"


@pytest.mark.django_db
def test_answers_ok_as_text_without_a_login_or_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    # Not a redirect to the login page, and no session was started for the probe.
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_head_works(client):
    response = client.head("/healthz/")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_are_refused_with_405(method):
    # With CSRF checks on, as a real client: the refusal is the method's, not CSRF's.
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/healthz/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
