"""What the order services refuse, in words a salesperson understands."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _


class OrderError(Exception):
    """Base of the refusals; str() is the message to show."""


class StaleLineError(OrderError):
    def __init__(self, *, saved_at: object = None, current_version: int = 0) -> None:
        when = f" at {timezone.localtime(saved_at):%H:%M}" if saved_at else ""
        super().__init__(
            f"Someone else saved this line{when} while you were editing it. Your changes are "
            "below: review them and save again."
        )
        self.current_version = current_version


class LockedError(OrderError):
    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "This session has been sent for confirmation: its lines can no longer be changed."
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
