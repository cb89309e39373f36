"""``manage.py covage_check``: do the configured credentials and API answer?

Read-only: one token request, then one project list. Never prints the password or a token.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from covage.client import CovageClient
from covage.errors import (
    CovageAuthenticationError,
    CovageError,
    CovageNotFound,
    CovagePermissionDenied,
    CovageRateLimited,
    CovageUnavailable,
)


def _hint_for(error: CovageError, *, stage: str) -> str:
    url_setting = "COVAGE_TOKEN_URL" if stage == "token" else "COVAGE_API_URL"
    if isinstance(error, CovageUnavailable):
        if error.reason == "dns":
            return f"The host name in {url_setting} does not resolve: check its spelling and DNS."
        if error.reason in ("connect", "connection"):
            return f"Check {url_setting} and that the server runs and is reachable from here."
        if error.reason in ("connect_timeout", "read_timeout"):
            return (
                f"Nothing answered in time: check {url_setting}, firewalls and proxies, or "
                "raise COVAGE_CONNECT_TIMEOUT / COVAGE_READ_TIMEOUT."
            )
        return "Covage is unavailable right now (server error): try again later."
    if isinstance(error, CovageAuthenticationError):
        if stage == "token":
            return "Check COVAGE_USERNAME and COVAGE_PASSWORD (and COVAGE_CLIENT_ID)."
        return (
            "The token was issued but the API refused it: COVAGE_TOKEN_URL and COVAGE_API_URL "
            "probably belong to different Covage environments."
        )
    if isinstance(error, CovagePermissionDenied):
        return "The account lacks rights for this API: ask Covage to grant them."
    if isinstance(error, CovageNotFound):
        return f"Wrong base URL: check {url_setting}."
    if isinstance(error, CovageRateLimited):
        return f"Covage limits the request rate: retry in {error.retry_after:.0f} s."
    if error.status is not None and error.status >= 500:
        return "Covage is unavailable right now (server error): try again later."
    return f"Check {url_setting}: it may not point to the Covage API."


class Command(BaseCommand):
    help = "Check that the Covage credentials and API answer (read-only: a token, a project list)."

    def handle(self, *args: Any, **options: Any) -> None:
        client = CovageClient.from_settings(max_retries=0)
        try:
            self._check(client)
        finally:
            client.close()

    def _check(self, client: CovageClient) -> None:
        username = settings.COVAGE_USERNAME
        token_url = settings.COVAGE_TOKEN_URL
        api_url = settings.COVAGE_API_URL
        try:
            # A real login, not the cached token: this checks the credentials themselves.
            client.tokens.login()
        except CovageError as error:
            self._fail("token", f"no token for user '{username}' at {token_url}", error)
        self.stdout.write(f"OK token: obtained for user '{username}' at {token_url}")

        try:
            projects = client.list_projects()
        except CovageError as error:
            self._fail("API", f"listing projects at {api_url} failed", error)
        self.stdout.write(f"OK API: {len(projects)} projects at {api_url}")

    def _fail(self, stage: str, what: str, error: CovageError) -> NoReturn:
        self.stderr.write(f"FAIL {stage}: {what}: {error}")
        self.stderr.write(f"  hint: {_hint_for(error, stage=stage.lower())}")
        raise CommandError(f"Covage check failed at the {stage} step.")
