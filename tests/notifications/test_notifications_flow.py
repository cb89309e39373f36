"""Notifications: once per event, e-mails once under re-delivery, preferences, language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from factories import back_office_user, sales_user
from tracking_data import confirmed_session, make_line, make_session, record_rejection

from exports.models import ExportJob
from exports.signals import export_failed, export_stored
from notifications.models import Frequency, Kind, Notification, NotificationPreference
from notifications.services import email
from notifications.tasks import email_notification, send_digests
from orders.services.attention import mark_needs_attention
from orders.services.events import record

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rejected_line_notifies_its_owner_once_and_emails_once():
    owner = sales_user()
    line = make_line(confirmed_session(owner))
    record_rejection(line)
    record_rejection(line)  # the same rejection seen again (a poll, then an export)
    notes = list(Notification.objects.filter(user=owner))
    assert [n.kind for n in notes] == [Kind.LINE_REJECTED]
    assert notes[0].line_id == line.pk
    assert len(mail.outbox) == 1
    assert f"line {line.position}" in mail.outbox[0].subject


def test_a_redelivered_email_task_sends_nothing_more():
    owner = sales_user()
    record_rejection(make_line(confirmed_session(owner)))
    note = Notification.objects.get(user=owner)
    assert len(mail.outbox) == 1
    assert email_notification.run(note.pk) is False
    assert email_notification.run(note.pk) is False
    assert len(mail.outbox) == 1


def test_a_failed_sending_gives_the_claim_back(settings, monkeypatch):
    owner = sales_user()
    NotificationPreference.objects.create(user=owner, frequency=Frequency.HOURLY)
    record_rejection(make_line(confirmed_session(owner)))
    note = Notification.objects.get(user=owner)
    assert mail.outbox == []

    def broken(*args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr(email, "send_mail", broken)
    with pytest.raises(OSError):
        email.email_notification(notification_id=note.pk)
    note.refresh_from_db()
    assert note.emailed_at is None
    monkeypatch.undo()
    assert email.email_notification(notification_id=note.pk) is True
    assert email.email_notification(notification_id=note.pk) is False
    assert len(mail.outbox) == 1


def test_preferences_leave_out_kinds_not_ticked():
    owner = sales_user()
    NotificationPreference.objects.create(user=owner, email_kinds=[Kind.EXPORT_READY])
    record_rejection(make_line(confirmed_session(owner)))
    note = Notification.objects.get(user=owner)
    assert note.email_due is False
    assert mail.outbox == []


def test_hourly_digest_gathers_events_into_one_email_once():
    owner = sales_user()
    NotificationPreference.objects.create(user=owner, frequency=Frequency.HOURLY)
    session = confirmed_session(owner)
    record_rejection(make_line(session))
    record_rejection(make_line(session))
    assert mail.outbox == []
    assert send_digests.run() == 1
    assert send_digests.run() == 0  # re-delivered or run twice: nothing more
    assert len(mail.outbox) == 1
    assert "2 new notifications" in mail.outbox[0].subject
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_emails_are_in_the_users_language():
    owner = sales_user()
    NotificationPreference.objects.create(user=owner, language="fr")
    record_rejection(make_line(confirmed_session(owner)))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Covage a rejeté la ligne" in message.subject
    assert "Bonjour" in message.body


def test_session_final_order_delivered_and_attention():
    owner = sales_user()
    staff = back_office_user()
    session = confirmed_session(owner, remote_state="partial")
    record(session=session, action="session_state", message="in_progress → partial", actor="sync")
    line = make_line(session, order_reference="CMD_9", tracking_state="active")
    record(session=session, line=line, action="order_state", message="CMD_9: in_progress → active")
    draft = make_session(owner)
    mark_needs_attention(session_id=draft.pk, reason="Stopped")
    assert set(Notification.objects.filter(user=owner).values_list("kind", flat=True)) == {
        Kind.SESSION_FINAL,
        Kind.ORDER_DELIVERED,
        Kind.NEEDS_ATTENTION,
    }
    assert list(Notification.objects.filter(user=staff).values_list("kind", flat=True)) == [
        Kind.NEEDS_ATTENTION
    ]


def test_exports_ready_or_failed_tell_who_asked_once():
    owner = sales_user()
    staff = back_office_user()
    manual = ExportJob.objects.create(requested_by=owner, covage_account="demo")
    scheduled = ExportJob.objects.create(
        trigger=ExportJob.Trigger.SCHEDULED, covage_account="demo", schedule_slot="s1"
    )
    system = ExportJob.objects.create(trigger=ExportJob.Trigger.SYSTEM, covage_account="demo")
    for _ in range(2):
        export_stored.send(sender=ExportJob, job=manual)
        export_failed.send(sender=ExportJob, job=scheduled)
        export_stored.send(sender=ExportJob, job=system)
    assert list(Notification.objects.filter(user=owner).values_list("kind", flat=True)) == [
        Kind.EXPORT_READY
    ]
    assert list(Notification.objects.filter(user=staff).values_list("kind", flat=True)) == [
        Kind.EXPORT_FAILED
    ]
    assert Notification.objects.count() == 2


def test_bell_counts_unread_and_the_list_marks_them_read(client):
    owner = sales_user()
    line = make_line(confirmed_session(owner))
    record_rejection(line)
    client.force_login(owner)
    assert 'data-unread="1"' in client.get(reverse("notifications:bell")).content.decode()
    page = client.get(reverse("notifications:list")).content.decode()
    assert reverse("orders:line", args=[line.session_id, line.pk]) in page
    assert "data-unread" not in client.get(reverse("notifications:bell")).content.decode()
    # Someone else sees none of it.
    client.force_login(sales_user())
    assert "Covage rejected" not in client.get(reverse("notifications:list")).content.decode()


def test_preferences_are_a_post_with_csrf(client):
    from django.test import Client

    owner = sales_user()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    refused = strict.post(reverse("notifications:preferences"), {"frequency": "hourly"})
    assert refused.status_code == 403
    client.force_login(owner)
    assert client.get(reverse("notifications:preferences")).status_code == 200
    response = client.post(
        reverse("notifications:preferences"),
        {"email_kinds": [Kind.LINE_REJECTED], "frequency": "hourly", "language": "en"},
    )
    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=owner)
    assert saved.email_kinds == [Kind.LINE_REJECTED]
    assert saved.frequency == Frequency.HOURLY
    bad = client.post(reverse("notifications:preferences"), {"frequency": "weekly"})
    assert bad.status_code == 400


def test_a_straggler_immediate_email_goes_with_the_next_digest():
    owner = sales_user()
    session = confirmed_session(owner)
    line = make_line(session)
    note = Notification.objects.create(
        user=owner,
        kind=Kind.LINE_REJECTED,
        key="x",
        line=line,
        session=session,
        params={"position": 1, "session": session.external_id},
        email_due=True,
        created_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert send_digests.run() == 1
    note.refresh_from_db()
    assert note.emailed_at is not None


def test_the_hourly_digest_is_scheduled():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="notifications.tasks.send_digests")
    assert task.crontab.minute == "0" and task.crontab.hour == "*"
