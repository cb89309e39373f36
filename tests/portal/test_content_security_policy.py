"""A strict Content-Security-Policy on every page, and templates that need nothing it refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import reverse
from factories import back_office_user, sales_user

pytestmark = pytest.mark.django_db

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
STATIC_DIR = Path(settings.BASE_DIR) / "static"


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def assert_strict(response) -> None:
    directives = policy(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "http" not in header  # no CDN or other host


def test_login_page_sends_the_policy(client):
    assert_strict(client.get(reverse("login")))


def test_portal_and_admin_pages_send_the_policy(client):
    client.force_login(back_office_user())
    for url in (reverse("orders:list"), reverse("exports:list"), reverse("admin:index")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)


def test_redirects_and_htmx_partials_send_it_too(client):
    assert_strict(client.get(reverse("home")))
    client.force_login(sales_user())
    assert_strict(client.get(reverse("orders:list"), HTTP_HX_REQUEST="true"))


def test_htmx_is_configured_for_the_policy(client):
    body = client.get(reverse("login")).content.decode()
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', body)
    assert meta is not None
    assert '"includeIndicatorStyles":false' in meta.group(1)
    assert '"allowEval":false' in meta.group(1)
    # Every script is a file from static/, none inline.
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", body, re.S)
    assert scripts
    for attributes, content in scripts:
        assert 'src="/static/' in attributes
        assert content.strip() == ""


def template_files() -> list[Path]:
    return sorted(TEMPLATES_DIR.rglob("*.html"))


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_templates_hold_nothing_the_policy_refuses(path):
    # Template comments may name what they avoid.
    text = re.sub(
        r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", "", path.read_text(), flags=re.S
    )
    assert not re.search(r"\sstyle\s*=", text), "style attribute: use a class in static/css"
    assert not re.search(r"<style\b", text), "inline <style>: use static/css"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler: use static/js"
    assert not re.search(r"\shx-on", text), "hx-on evaluates code: use static/js"
    assert not re.search(r"(js|javascript):", text), "js: values are evaluated: not allowed"
    for match in re.finditer(r"<script\b([^>]*)>", text):
        assert "src=" in match.group(1), "inline <script>: move it to static/js"


def test_width_classes_cover_every_step_of_the_progress_bar():
    css = (STATIC_DIR / "css" / "portal.css").read_text()
    for step in range(0, 101, 5):
        assert f".w-pct-{step} {{ width: {step}%; }}" in css


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (2, 0), (3, 5), (49, 50), (97, 95), (98, 100), (100, 100), (130, 100), (-4, 0)],
)
def test_percent_step(value, expected):
    rendered = Template("{% load portal_ui %}{{ value|percent_step }}").render(
        Context({"value": value})
    )
    assert rendered == str(expected)


def test_percent_step_of_nonsense_is_zero():
    assert Template("{% load portal_ui %}{{ v|percent_step }}").render(Context({"v": "x"})) == "0"
