"""What the order services refuse, in words a salesperson understands."""

from __future__ import annotations

from django.utils import timezone


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
