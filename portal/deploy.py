"""The production switch: `PORTAL_ENV=production` and what it refuses to start without.

Read by the settings module, before Django is set up: no Django import beyond the exception,
and messages in plain English for the operator (the translation machinery is not ready yet).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT = "development"
PRODUCTION = "production"
ENVIRONMENTS = (DEVELOPMENT, PRODUCTION)

# Only for a laptop. The prefix is the one `manage.py check --deploy` flags, and production
# refuses it (and anything starting like it).
DEV_SECRET_KEY = "django-insecure-local-only-key-set-SECRET_KEY-before-deploying"
INSECURE_KEY_PREFIX = "django-insecure-"

# The sandbox's built-in service account (COVAGE_SANDBOX_ACCOUNTS' default).
DEMO_COVAGE_PASSWORD = "demo"

# The URLconf of the sandbox's own process (covage/sandbox/wsgi.py, `manage.py runsandbox`).
PORTAL_URLCONF = "portal.urls"
SANDBOX_URLCONF = "covage.sandbox.urls"


def portal_environment(raw: str) -> str:
    value = (raw or DEVELOPMENT).strip().lower()
    if value not in ENVIRONMENTS:
        raise ImproperlyConfigured(
            f"PORTAL_ENV={raw!r} is not understood: use one of {', '.join(ENVIRONMENTS)}."
        )
    return value


def root_urlconf(raw: str, *, production: bool) -> str:
    """PORTAL_URLCONF is internal: the sandbox process sets it to serve the sandbox alone.

    No other URLconf can be chosen from the environment, and production serves the portal only.
    """
    value = (raw or PORTAL_URLCONF).strip()
    if value not in (PORTAL_URLCONF, SANDBOX_URLCONF):
        raise ImproperlyConfigured(
            f"PORTAL_URLCONF={raw!r} is not supported: it is set by the sandbox process only."
        )
    if production and value != PORTAL_URLCONF:
        raise ImproperlyConfigured(
            "The Covage sandbox cannot run with PORTAL_ENV=production: "
            "it is a simulation for laptops, demos and tests."
        )
    return value


def proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER from "HTTP_X_FORWARDED_PROTO,https"."""
    if not raw.strip():
        return None
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) != 2 or not all(parts) or not parts[0].startswith("HTTP_"):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER={raw!r}: expected the request header as Django names it "
            "and the value meaning HTTPS, e.g. 'HTTP_X_FORWARDED_PROTO,https'."
        )
    return parts[0], parts[1]


def secret_key_problem(secret_key: str) -> str | None:
    if not secret_key:
        return "SECRET_KEY is not set."
    if secret_key.startswith(INSECURE_KEY_PREFIX):
        return "SECRET_KEY is a development key (it starts with 'django-insecure-')."
    # The same bar as Django's own deployment check (security.W009).
    if len(secret_key) < 50 or len(set(secret_key)) < 5:
        return (
            "SECRET_KEY is too weak: use at least 50 random characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    return None


def production_problems(
    *,
    secret_key: str,
    debug: bool,
    allowed_hosts: list[str],
    covage_api_url: str,
    covage_token_url: str,
    covage_username: str,
    covage_password: str,
) -> list[str]:
    """Every reason the portal must not start in production, in words."""
    problems = []
    key_problem = secret_key_problem(secret_key)
    if key_problem:
        problems.append(key_problem)
    if debug:
        problems.append("DEBUG is on: Django's debug pages would show settings and data.")
    if not allowed_hosts:
        problems.append("ALLOWED_HOSTS is not set: list the host names the portal answers to.")
    for name, url in (("COVAGE_API_URL", covage_api_url), ("COVAGE_TOKEN_URL", covage_token_url)):
        if not url:
            problems.append(f"{name} is not set.")
        elif not url.lower().startswith("https://"):
            problems.append(f"{name} must start with https:// (it is {url!r}).")
    if not covage_username or not covage_password:
        problems.append("COVAGE_USERNAME and COVAGE_PASSWORD are not both set.")
    elif covage_password == DEMO_COVAGE_PASSWORD:
        problems.append(
            "COVAGE_USERNAME/COVAGE_PASSWORD are the sandbox's demo account: set the service "
            "account Covage issued."
        )
    return problems


def require_production_ready(**values: object) -> None:
    problems = production_problems(**values)  # type: ignore[arg-type]
    if problems:
        raise ImproperlyConfigured(
            "PORTAL_ENV=production refuses to start:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
