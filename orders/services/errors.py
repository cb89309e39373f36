"""What the order services refuse, in words a salesperson understands, and what became of
a call to Covage, in the portal's own terms.

Views, the admin and tasks catch these, never Covage's own errors (covage.errors): the
services that call Covage turn its errors into `RemoteError`s (orders.services.remote).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _


class OrderError(Exception):
    """Base of the refusals; str() is the message to show."""


class StaleLineError(OrderError):
    def __init__(self, *, saved_at: datetime | None = None, current_version: int = 0) -> None:
        if saved_at:
            message = _(
                "Someone else saved this line at %(time)s while you were editing it. Your "
                "changes are below: review them and save again."
            ) % {"time": time_format(timezone.localtime(saved_at), "H:i")}
        else:
            message = _(
                "Someone else saved this line while you were editing it. Your changes are "
                "below: review them and save again."
            )
        super().__init__(message)
        self.current_version = current_version


class LockedError(OrderError):
    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or _("This session has been sent for confirmation: its lines can no longer be changed.")
        )


class OfferFixedError(OrderError):
    """The offer family or technology of a line that Covage already has: its PATCH does not
    take them (only the creating POST does), so a change could never reach Covage."""

    def __init__(self, *, fields: Iterable[str] = ()) -> None:
        super().__init__(
            _(
                "Covage cannot change the offer (family and technology) of a line it already "
                "has: nothing was saved. To order another offer, replace the line (it is "
                "deleted at Covage and a copy with the new offer is created); to keep your "
                "other changes, save again with the line's offer."
            )
        )
        self.fields = tuple(fields)


class InvalidLineError(OrderError):
    """Values that fail the fields' own checks (lengths, formats); `field_errors` maps each
    field to its messages."""

    def __init__(self, field_errors: dict[str, list[str]]) -> None:
        super().__init__(
            _("Some values are not in the expected format: %(fields)s.")
            % {"fields": ", ".join(sorted(field_errors))}
        )
        self.field_errors = field_errors


class RemoteError(Exception):
    """A call to Covage made in the background failed.

    `message` is an English msgid without placeholders, fit to be stored (a session's last
    error, the reason it needs attention) and translated when shown; str() is it in the
    active language. The detail (hosts, HTTP statuses) goes to the log, from `__cause__`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return _(self.message)


class RemoteUnavailable(RemoteError):
    """Covage could not be reached, or asked the portal to slow down: trying again later
    may work. `retry_after` is how many seconds Covage asked to wait, if it said."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RemoteRefused(RemoteError):
    """Covage refused outright (credentials, rights, an object it does not know, an answer
    the portal cannot read): trying again will not help until a person acts."""
