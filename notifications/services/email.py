"""E-mailing notifications, each at most once.

A notification is claimed before its e-mail goes (a conditional UPDATE of `emailed_at`):
a re-delivered task, or a second digest run, finds it taken and sends nothing. A failed
sending gives the claim back, so the task's retry (or the next digest) sends it. E-mails are
written in the language of the user's preferences.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from notifications.models import Frequency, Notification, NotificationPreference
from notifications.services.create import preference_for

logger = logging.getLogger(__name__)

# An "at once" e-mail whose task was lost is sent by the next digest, after this delay.
STRAGGLER_DELAY = dt.timedelta(minutes=10)


def absolute_url(path: str) -> str:
    return str(settings.PORTAL_BASE_URL).rstrip("/") + path


def _claim(ids: list[int], moment: dt.datetime) -> list[int]:
    """Take the notifications nobody e-mailed yet; returns those this call took."""
    Notification.objects.filter(pk__in=ids, emailed_at__isnull=True, email_due=True).update(
        emailed_at=moment
    )
    return list(
        Notification.objects.filter(pk__in=ids, emailed_at=moment).values_list("pk", flat=True)
    )


def _release(ids: list[int], moment: dt.datetime) -> None:
    Notification.objects.filter(pk__in=ids, emailed_at=moment).update(emailed_at=None)


def email_notification(*, notification_id: int) -> bool:
    """E-mail one notification unless it was already; True when this call sent it. Raises
    the mail backend's error (after giving the claim back) so that the task retries."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or not notification.email_due or not notification.user.email:
        return False
    moment = timezone.now()
    if not _claim([notification.pk], moment):
        return False
    preference = preference_for(notification.user)
    try:
        with translation.override(preference.language):
            subject = gettext("Covage portal: %(text)s") % {"text": notification.text}
            body = render_to_string(
                "notifications/email/one.txt",
                {
                    "user": notification.user,
                    "notification": notification,
                    "url": absolute_url(notification.url),
                    "preferences_url": absolute_url("/notifications/preferences/"),
                },
            )
        send_mail(subject, body, None, [notification.user.email])
    except Exception:
        _release([notification.pk], moment)
        raise
    return True


def _digest_candidates(now: dt.datetime) -> dict[int, list[int]]:
    hourly_users = NotificationPreference.objects.filter(frequency=Frequency.HOURLY).values(
        "user_id"
    )
    rows = (
        Notification.objects.filter(email_due=True, emailed_at__isnull=True)
        .filter(Q(user_id__in=hourly_users) | Q(created_at__lte=now - STRAGGLER_DELAY))
        .order_by("user_id", "created_at", "pk")
        .values_list("user_id", "pk")
    )
    found: dict[int, list[int]] = {}
    for user_id, pk in rows:
        found.setdefault(user_id, []).append(pk)
    return found


def send_digests(*, now: dt.datetime | None = None) -> int:
    """One e-mail per user gathering their notifications not e-mailed yet; returns how many
    e-mails went. A failure for one user leaves theirs for the next run."""
    now = now or timezone.now()
    sent = 0
    for user_id, ids in _digest_candidates(now).items():
        moment = timezone.now()
        taken = _claim(ids, moment)
        if not taken:
            continue
        notifications = list(
            Notification.objects.filter(pk__in=taken).select_related("user").order_by("created_at")
        )
        user = notifications[0].user
        if not user.email:
            # No address any more: nothing to send, now or later.
            Notification.objects.filter(pk__in=taken).update(email_due=False, emailed_at=None)
            continue
        preference = preference_for(user)
        try:
            with translation.override(preference.language):
                subject = ngettext(
                    "Covage portal: %(count)d new notification",
                    "Covage portal: %(count)d new notifications",
                    len(notifications),
                ) % {"count": len(notifications)}
                body = render_to_string(
                    "notifications/email/digest.txt",
                    {
                        "user": user,
                        "items": [(n, absolute_url(n.url)) for n in notifications],
                        "preferences_url": absolute_url("/notifications/preferences/"),
                    },
                )
            send_mail(subject, body, None, [user.email])
        except Exception:
            logger.exception("digest for user %s failed", user_id)
            _release(taken, moment)
            continue
        sent += 1
    return sent
