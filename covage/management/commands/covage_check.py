"""``manage.py covage_check``: do the configured credentials and API answer?

Read-only: one token request, then one project list. Never prints the password or a token.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from covage.client import CovageClient
from covage.errors import (
    CovageAuthenticationError,
    CovageError,
    CovageNotFound,
    CovagePermissionDenied,
    CovageRateLimited,
    CovageUnavailable,
)

SERVER_ERROR = gettext_noop("Covage is unavailable right now (server error): try again later.")


def _hint_for(error: CovageError, *, stage: str) -> str:
    url_setting = "COVAGE_TOKEN_URL" if stage == "token" else "COVAGE_API_URL"
    if isinstance(error, CovageUnavailable):
        if error.reason == "dns":
            return _(
                "The host name in %(setting)s does not resolve: check its spelling and DNS."
            ) % {"setting": url_setting}
        if error.reason in ("connect", "connection"):
            return _("Check %(setting)s and that the server runs and is reachable from here.") % {
                "setting": url_setting
            }
        if error.reason in ("connect_timeout", "read_timeout"):
            return _(
                "Nothing answered in time: check %(setting)s, firewalls and proxies, or raise "
                "COVAGE_CONNECT_TIMEOUT / COVAGE_READ_TIMEOUT."
            ) % {"setting": url_setting}
        return _(SERVER_ERROR)
    if isinstance(error, CovageAuthenticationError):
        if stage == "token":
            return _("Check COVAGE_USERNAME and COVAGE_PASSWORD (and COVAGE_CLIENT_ID).")
        return _(
            "The token was issued but the API refused it: COVAGE_TOKEN_URL and COVAGE_API_URL "
            "probably belong to different Covage environments."
        )
    if isinstance(error, CovagePermissionDenied):
        return _("The account lacks rights for this API: ask Covage to grant them.")
    if isinstance(error, CovageNotFound):
        return _("Wrong base URL: check %(setting)s.") % {"setting": url_setting}
    if isinstance(error, CovageRateLimited):
        return _("Covage limits the request rate: retry in %(seconds)s s.") % {
            "seconds": f"{error.retry_after:.0f}"
        }
    if error.status is not None and error.status >= 500:
        return _(SERVER_ERROR)
    return _("Check %(setting)s: it may not point to the Covage API.") % {"setting": url_setting}


class Command(BaseCommand):
    # Not translated, as Django's own commands' help is not.
    help = "Check that the Covage credentials and API answer (read-only: a token, a project list)."

    def handle(self, *args: Any, **options: Any) -> None:
        client = CovageClient.from_settings(max_retries=0)
        try:
            self._check(client)
        finally:
            client.close()

    def _check(self, client: CovageClient) -> None:
        values = {
            "user": settings.COVAGE_USERNAME,
            "token_url": settings.COVAGE_TOKEN_URL,
            "api_url": settings.COVAGE_API_URL,
        }
        try:
            # A real login, not the cached token: this checks the credentials themselves.
            client.tokens.login()
        except CovageError as error:
            self._fail("token", _("no token for user '%(user)s' at %(token_url)s") % values, error)
        self.stdout.write(_("OK token: obtained for user '%(user)s' at %(token_url)s") % values)

        try:
            projects = client.list_projects()
        except CovageError as error:
            self._fail("API", _("listing projects at %(api_url)s failed") % values, error)
        self.stdout.write(
            ngettext(
                "OK API: %(count)d project at %(api_url)s",
                "OK API: %(count)d projects at %(api_url)s",
                len(projects),
            )
            % {**values, "count": len(projects)}
        )

    def _fail(self, stage: str, what: str, error: CovageError) -> NoReturn:
        self.stderr.write(
            _("FAIL %(stage)s: %(what)s: %(error)s")
            % {"stage": stage, "what": what, "error": error}
        )
        self.stderr.write(_("  hint: %(hint)s") % {"hint": _hint_for(error, stage=stage.lower())})
        raise CommandError(_("Covage check failed at the %(stage)s step.") % {"stage": stage})
