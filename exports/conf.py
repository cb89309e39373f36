"""Export settings, read at call time (tests override them) with the documented defaults."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

_BACKOFF_DEFAULTS = {"FIRST": 2.0, "FACTOR": 2.0, "MAX": 60.0}
# Longest countdown a task may take: Redis redelivers unacknowledged messages after the
# visibility timeout (1 h by default), so a countdown must stay well below it.
_MAX_COUNTDOWN_FRACTION = 0.5


def window() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "EXPORT_WINDOW_SECONDS", 300)))


def retention() -> timedelta:
    return timedelta(days=int(getattr(settings, "EXPORT_RETENTION_DAYS", 7)))


def max_polls() -> int:
    return int(getattr(settings, "EXPORT_MAX_POLLS", 120))


def max_start_attempts() -> int:
    """How many times a scheduled export asks Covage again after a 429."""
    return int(getattr(settings, "EXPORT_MAX_START_ATTEMPTS", 3))


def start_stale_after() -> timedelta:
    """A start claim older than this without a task id: the worker died during the POST."""
    return timedelta(seconds=int(getattr(settings, "EXPORT_START_STALE_SECONDS", 300)))


def download_stale_after() -> timedelta:
    """A download claim older than this belongs to a worker that died: take it over."""
    return timedelta(seconds=int(getattr(settings, "EXPORT_DOWNLOAD_STALE_SECONDS", 900)))


def max_countdown() -> float:
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    visibility = float(options.get("visibility_timeout", 3600))
    return visibility * _MAX_COUNTDOWN_FRACTION


def poll_delay(poll_count: int) -> float:
    """Seconds to wait after ``poll_count`` polls: FIRST, FIRST*FACTOR, ... capped at MAX."""
    backoff = {**_BACKOFF_DEFAULTS, **(getattr(settings, "EXPORT_POLL_BACKOFF", None) or {})}
    first, factor, cap = float(backoff["FIRST"]), float(backoff["FACTOR"]), float(backoff["MAX"])
    exponent = max(poll_count, 0)
    # Bound the exponent so that a large poll count does not overflow the float.
    delay = first * factor ** min(exponent, 32)
    return min(delay, cap, max_countdown())
