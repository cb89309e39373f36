"""French by default, English on request: the browser's language, the switch and its
cookie, and dates formatted for the language."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import formats, translation
from factories import sales_user

pytestmark = pytest.mark.django_db


def html_lang(response) -> str:
    return re.search(r'<html[^>]* lang="([^"]+)"', response.content.decode()).group(1)


def test_a_new_installation_speaks_french() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LANGUAGE_CODE"}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.LANGUAGE_CODE)"],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "fr"


def test_without_a_browser_language_the_login_page_is_french(client, settings) -> None:
    settings.LANGUAGE_CODE = "fr"
    response = client.get(reverse("login"))
    assert html_lang(response) == "fr"
    assert "Se connecter" in response.content.decode()


@pytest.mark.parametrize(
    ("accept", "lang", "words"),
    [("en-GB,en;q=0.8", "en", "Log in"), ("fr-FR", "fr", "Se connecter")],
)
def test_the_page_follows_the_browsers_language(client, settings, accept, lang, words) -> None:
    settings.LANGUAGE_CODE = "fr"
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=accept)
    assert html_lang(response) == lang
    assert words in response.content.decode()


def test_the_switch_overrides_the_browser_and_is_kept(client, settings) -> None:
    settings.LANGUAGE_CODE = "fr"
    client.force_login(sales_user())
    switched = client.post(
        reverse("set_language"),
        {"language": "en", "next": reverse("orders:list")},
        HTTP_ACCEPT_LANGUAGE="fr-FR",
    )
    assert switched.status_code == 302 and switched["Location"] == reverse("orders:list")
    cookie = switched.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert int(cookie["max-age"]) >= 180 * 24 * 3600  # kept, not only for this visit

    page = client.get(reverse("orders:list"), HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert html_lang(page) == "en"


def test_the_switch_needs_a_post_with_its_csrf_token(settings) -> None:
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    refused = browser.post(reverse("set_language"), {"language": "en"})
    assert refused.status_code == 403


def test_dates_are_written_the_french_or_the_english_way() -> None:
    moment = datetime(2026, 3, 9, 14, 5, tzinfo=ZoneInfo("Europe/Paris"))
    with translation.override("fr"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "09/03/2026 14:05"
        assert formats.number_format(1234.5, 1, force_grouping=True) == "1\xa0234,5"
    with translation.override("en"):
        # portal/formats/en: day first and a 24-hour clock, as users in France write it.
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "09/03/2026 14:05"
        assert formats.date_format(moment, "DATE_FORMAT") == "9 March 2026"
        assert formats.number_format(1234.5, 1, force_grouping=True) == "1,234.5"
