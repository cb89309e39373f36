"""Writes made by people: sessions and lines saved as drafts, then queued for Covage.

Nothing here waits on Covage: every change is saved locally and the sync is queued after
the transaction commits (orders.tasks.sync_session).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from orders.models import LineContact, OrderLine, OrderSession, SyncStatus
from orders.services.errors import LockedError, StaleLineError
from orders.services.events import record
from orders.steps import STEPS_BY_SLUG


def default_line_external_id(session: OrderSession, line: OrderLine) -> str:
    return f"{session.external_id}-L{line.pk}"


def queue_sync(session: OrderSession) -> None:
    from orders.tasks import sync_session

    session_id = session.pk
    transaction.on_commit(lambda: sync_session.delay(session_id))


def ensure_editable(session: OrderSession) -> None:
    if session.is_locked:
        raise LockedError()


@transaction.atomic
def create_session(
    *, user: AbstractBaseUser, external_id: str = "", project_id: str = ""
) -> OrderSession:
    """A local draft; Covage hears of it when its first line is saved."""
    session = OrderSession(owner=user, project_id=project_id.strip())
    if external_id.strip():
        session.external_id = external_id.strip()
    session.save()
    record(session=session, user=user, action="session_created", message=session.external_id)
    return session


@transaction.atomic
def add_line(*, user: AbstractBaseUser, session: OrderSession) -> OrderLine:
    session = OrderSession.objects.select_for_update().get(pk=session.pk)
    ensure_editable(session)
    last = session.lines.aggregate(last=Max("position"))["last"] or 0
    line = OrderLine.objects.create(session=session, position=last + 1)
    # The line's external id carries our id, so that a line whose creation answer was lost
    # can be recognised among the session's lines at Covage.
    line.external_id = default_line_external_id(session, line)
    line.save(update_fields=["external_id"])
    LineContact.objects.create(line=line, position=0)
    record(session=session, user=user, line=line, action="line_added", message=f"Line {last + 1}")
    return line


@transaction.atomic
def save_line_step(
    *, user: AbstractBaseUser, line: OrderLine, step: str, data: dict[str, Any], version: int
) -> OrderLine:
    """Save one step of a line as a draft and queue its sync.

    `data` holds the step's line fields and the fields of the first contact entry. The
    version the form was opened with must still be the line's: otherwise someone saved it
    meanwhile and this save would overwrite their work.
    """
    definition = STEPS_BY_SLUG[step]
    locked = OrderLine.objects.select_for_update().select_related("session").get(pk=line.pk)
    ensure_editable(locked.session)
    if locked.version != version:
        raise StaleLineError(saved_at=locked.updated_at, current_version=locked.version)

    if "external_id" in data and not str(data["external_id"] or "").strip():
        # Blank means "let the portal number it": the id is how a line whose creation answer
        # was lost is recognised at Covage, so it is never left empty.
        data = {**data, "external_id": default_line_external_id(locked.session, locked)}
    changed: list[str] = []
    for name in definition.line_fields:
        if name in data and getattr(locked, name) != data[name]:
            setattr(locked, name, data[name])
            changed.append(name)
    # One "End customer name" on screen: it is both in the step's line fields and in its
    # contact fields, since Covage has it on the line and in the contact entry.
    contact_changes = _save_first_contact(locked, definition.contact_fields, data)

    if changed or contact_changes:
        locked.version += 1
        locked.sync_status = SyncStatus.SYNCING
        locked.save()
        record(
            session=locked.session,
            user=user,
            line=locked,
            action="line_saved",
            message=f"{definition.title}: {_labels(changed, contact_changes)}",
        )
        queue_sync(locked.session)
    return locked


def _labels(line_fields: list[str], contact_fields: list[str]) -> str:
    """The changed fields as the form names them (never their values: no personal data)."""
    labels = [str(OrderLine._meta.get_field(name).verbose_name) for name in line_fields]
    labels += [
        str(LineContact._meta.get_field(name).verbose_name)
        for name in contact_fields
        if name not in line_fields
    ]
    return ", ".join(dict.fromkeys(labels))


def _save_first_contact(
    line: OrderLine, fields: tuple[str, ...], data: dict[str, Any]
) -> list[str]:
    names = [name for name in fields if name in data]
    if not names:
        return []
    contact, _ = LineContact.objects.get_or_create(line=line, position=0)
    changed = []
    for name in names:
        if getattr(contact, name) != data[name]:
            setattr(contact, name, data[name])
            changed.append(name)
    if changed:
        contact.save()
    return changed


@transaction.atomic
def duplicate_line(*, user: AbstractBaseUser, line: OrderLine) -> OrderLine:
    """A new draft with the same values; nothing Covage gave the original is copied."""
    session = OrderSession.objects.select_for_update().get(pk=line.session_id)
    ensure_editable(session)
    copy = copy_line_into(line, session)
    record(
        session=session,
        user=user,
        line=copy,
        action="line_duplicated",
        message=f"Line {copy.position} copied from line {line.position}",
    )
    queue_sync(session)
    return copy


USER_LINE_FIELDS = tuple(
    name for step in STEPS_BY_SLUG.values() for name in step.line_fields if name != "external_id"
)


def copy_line_into(line: OrderLine, session: OrderSession) -> OrderLine:
    last = session.lines.aggregate(last=Max("position"))["last"] or 0
    copy = OrderLine(session=session, position=last + 1, sync_status=SyncStatus.SYNCING)
    for name in USER_LINE_FIELDS:
        setattr(copy, name, getattr(line, name))
    copy.save()
    copy.external_id = default_line_external_id(session, copy)
    copy.save(update_fields=["external_id"])
    for contact in line.contacts.all():
        contact.pk = None
        contact.line = copy
        contact.save()
    return copy


@transaction.atomic
def delete_line(*, user: AbstractBaseUser, line: OrderLine) -> None:
    """The line disappears at once; if Covage has it, it is kept until Covage deletes it."""
    locked = OrderLine.objects.select_for_update().select_related("session").get(pk=line.pk)
    ensure_editable(locked.session)
    record(
        session=locked.session,
        user=user,
        line=None,
        action="line_deleted",
        message=f"Line {locked.position}",
    )
    if locked.covage_id:
        locked.deleted_at = timezone.now()
        locked.sync_status = SyncStatus.SYNCING
        locked.save()
        queue_sync(locked.session)
    else:
        locked.delete()


@transaction.atomic
def request_sync(*, user: AbstractBaseUser, session: OrderSession) -> None:
    """The "Retry" action: send again whatever Covage has not got."""
    session = OrderSession.objects.select_for_update().get(pk=session.pk)
    session.lines.filter(rejected_version__gt=0).update(rejected_version=0)
    session.lines.exclude(sync_status=SyncStatus.SYNCED).update(sync_status=SyncStatus.SYNCING)
    record(session=session, user=user, action="sync_requested")
    queue_sync(session)
