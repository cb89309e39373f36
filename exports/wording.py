"""The words of the exports app that both the services and the models use: moments and the
account's export window, in the active language. Imports no model."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import ngettext

from exports import conf


def format_moment(moment: datetime) -> str:
    """``10:35`` today, ``9 Jul 10:35`` another day, in the portal's time zone."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return date_format(local, "H:i")
    return date_format(local, "j M H:i")


def window_rule() -> str:
    seconds = int(conf.window().total_seconds())
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext(
            "Covage allows one export every %(count)d minute.",
            "Covage allows one export every %(count)d minutes.",
            minutes,
        ) % {"count": minutes}
    return ngettext(
        "Covage allows one export every %(count)d second.",
        "Covage allows one export every %(count)d seconds.",
        seconds,
    ) % {"count": seconds}
