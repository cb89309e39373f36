"""PORTAL_ENV=production: secure settings on, the sandbox out, and no start without a real
secret, hosts and Covage account. Settings are read once per process: each case runs in a
subprocess with its own environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from portal import deploy

BASE_DIR = Path(django_settings.BASE_DIR)
PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": "k3y-" + "x7Qp9Lm2Zr8Vt4Wn6Yb1Hc5Jd0Fg3Ks" * 2,
    "ALLOWED_HOSTS": "portal.example.com",
    "COVAGE_API_URL": "https://api.covage.example",
    "COVAGE_TOKEN_URL": "https://auth.covage.example/auth/realms/covage/protocol/openid-connect/token",
    "COVAGE_USERNAME": "acme-orders",
    "COVAGE_PASSWORD": "a-real-service-account-password",
}
# Variables of the surrounding shell that would change what these cases see.
CLEARED = (
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests; check --deploy refuses it
    "PORTAL_URLCONF",
    "DEBUG",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "PORTAL_REQUIRE_STAFF_2FA",
)


def run(tmp_path, args, **overrides):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED and not k.startswith("COVAGE_")}
    env.update(
        PRODUCTION_ENV, PORTAL_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="portal.settings"
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_deploy(tmp_path, **overrides):
    return run(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **overrides)


PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "apps": s.INSTALLED_APPS,
    "urlconf": s.ROOT_URLCONF,
    "hsts": s.SECURE_HSTS_SECONDS,
    "subdomains": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "preload": s.SECURE_HSTS_PRELOAD,
    "redirect": s.SECURE_SSL_REDIRECT,
    "session_secure": s.SESSION_COOKIE_SECURE,
    "csrf_secure": s.CSRF_COOKIE_SECURE,
    "proxy": s.SECURE_PROXY_SSL_HEADER,
    "origins": s.CSRF_TRUSTED_ORIGINS,
    "frame": s.X_FRAME_OPTIONS,
    "referrer": s.SECURE_REFERRER_POLICY,
    "staff_2fa": s.PORTAL_REQUIRE_STAFF_2FA,
    "csp": s.CONTENT_SECURITY_POLICY,
}))
"""


def production_settings(tmp_path, **overrides):
    result = run(tmp_path, ["-c", PRINT_SETTINGS], **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_with_only_the_required_variables(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set."),
        ({"SECRET_KEY": deploy.DEV_SECRET_KEY}, "SECRET_KEY is a development key"),
        ({"SECRET_KEY": "short-but-not-insecure"}, "SECRET_KEY is too weak"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is not set"),
        ({"COVAGE_USERNAME": "demo", "COVAGE_PASSWORD": "demo"}, "sandbox's demo account"),
        ({"COVAGE_USERNAME": None, "COVAGE_PASSWORD": None}, "COVAGE_USERNAME and COVAGE_PASSWORD"),
        (
            {"COVAGE_API_URL": "http://api.covage.example"},
            "COVAGE_API_URL must start with https://",
        ),
        ({"COVAGE_TOKEN_URL": None}, "COVAGE_TOKEN_URL is not set."),
        ({"DEBUG": "true"}, "DEBUG is on"),
        (
            {"PORTAL_URLCONF": "covage.sandbox.urls"},
            "sandbox cannot run with PORTAL_ENV=production",
        ),
    ],
)
def test_production_refuses_to_start_without_real_settings(tmp_path, overrides, message):
    result = check_deploy(tmp_path, **overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_every_problem_is_listed_at_once(tmp_path):
    result = check_deploy(tmp_path, SECRET_KEY=None, ALLOWED_HOSTS=None, COVAGE_API_URL="http://x")
    assert "SECRET_KEY is not set." in result.stderr
    assert "ALLOWED_HOSTS is not set" in result.stderr
    assert "COVAGE_API_URL must start with https://" in result.stderr


def test_production_turns_every_secure_setting_on_and_leaves_the_sandbox_out(tmp_path):
    values = production_settings(tmp_path)
    assert "covage.sandbox" not in values["apps"]
    assert values["urlconf"] == "portal.urls"
    assert values["hsts"] == 365 * 24 * 3600
    assert values["subdomains"] is True
    assert values["preload"] is True
    assert values["redirect"] is True
    assert values["session_secure"] is True
    assert values["csrf_secure"] is True
    assert values["proxy"] is None
    assert values["frame"] == "DENY"
    assert values["staff_2fa"] is True


def test_each_security_setting_follows_its_environment_variable(tmp_path):
    values = production_settings(
        tmp_path,
        SECURE_HSTS_SECONDS="60",
        SECURE_HSTS_PRELOAD="false",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        CSRF_TRUSTED_ORIGINS="https://portal.example.com",
        X_FRAME_OPTIONS="SAMEORIGIN",
        SECURE_REFERRER_POLICY="strict-origin",
        PORTAL_REQUIRE_STAFF_2FA="false",
    )
    assert values["hsts"] == 60
    assert values["preload"] is False
    assert values["redirect"] is False
    assert values["session_secure"] is False
    assert values["csrf_secure"] is True
    assert values["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["origins"] == ["https://portal.example.com"]
    assert values["frame"] == "SAMEORIGIN"
    assert values["referrer"] == "strict-origin"
    assert values["staff_2fa"] is False


def test_secure_cookies_is_still_an_alias_for_both_cookie_flags(tmp_path):
    values = production_settings(tmp_path, SECURE_COOKIES="false")
    assert values["session_secure"] is False
    assert values["csrf_secure"] is False
    development = production_settings(
        tmp_path, PORTAL_ENV="development", SECURE_COOKIES="true", SECRET_KEY=None
    )
    assert development["session_secure"] is True
    assert development["csrf_secure"] is True


def test_a_malformed_proxy_header_is_refused(tmp_path):
    result = check_deploy(tmp_path, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER" in result.stderr


def test_development_is_plain_http_with_the_sandbox(tmp_path):
    values = production_settings(
        tmp_path,
        PORTAL_ENV=None,
        SECRET_KEY=None,
        ALLOWED_HOSTS=None,
        COVAGE_API_URL=None,
        COVAGE_TOKEN_URL=None,
        COVAGE_USERNAME=None,
        COVAGE_PASSWORD=None,
    )
    assert "covage.sandbox" in values["apps"]
    assert values["redirect"] is False
    assert values["hsts"] == 0
    assert values["session_secure"] is False
    assert values["staff_2fa"] is False
    # The same strict CSP in every environment.
    assert values["csp"] == production_settings(tmp_path)["csp"]


def test_the_development_key_is_flagged_by_check_deploy(tmp_path):
    result = run(
        tmp_path,
        ["manage.py", "check", "--deploy"],
        PORTAL_ENV=None,
        SECRET_KEY=None,
    )
    assert "security.W009" in result.stdout + result.stderr
    assert deploy.DEV_SECRET_KEY.startswith("django-insecure-")


def test_an_unknown_environment_name_is_refused(tmp_path):
    result = check_deploy(tmp_path, PORTAL_ENV="prod")
    assert result.returncode != 0
    assert "PORTAL_ENV='prod' is not understood" in result.stderr


def test_the_sandbox_urlconf_is_the_only_other_choice(tmp_path):
    result = run(
        tmp_path,
        ["-c", "import django; django.setup()"],
        PORTAL_ENV=None,
        PORTAL_URLCONF="portal.urls_with_sandbox",
    )
    assert result.returncode != 0
    assert "PORTAL_URLCONF='portal.urls_with_sandbox' is not supported" in result.stderr


PRINT_DATABASE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({"options": s.DATABASES["default"].get("OPTIONS", {}),
                  "max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
                  "health": s.DATABASES["default"]["CONN_HEALTH_CHECKS"],
                  "sessions": s.SESSION_ENGINE}))
"""


@pytest.mark.parametrize(
    ("overrides", "binding"),
    [({}, True), ({"DATABASE_SERVER_SIDE_BINDING": "false"}, False)],
)
def test_postgresql_binds_parameters_on_the_server_unless_told_not_to(tmp_path, overrides, binding):
    # Only read, never connected to: the settings alone.
    environment = {
        "DATABASE_URL": "postgres://portal@db.example:5432/portal",
        "DATABASE_SERVER_SIDE_BINDING": None,
        "DATABASE_CONN_MAX_AGE": None,
        **overrides,
    }
    result = run(tmp_path, ["-c", PRINT_DATABASE], **environment)
    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout.strip().splitlines()[-1])
    assert database["options"]["server_side_binding"] is binding
    assert (database["max_age"], database["health"]) == (60, True)
    assert database["sessions"] == "django.contrib.sessions.backends.cached_db"
