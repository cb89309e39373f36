"""Writes made by people: sessions and lines saved as drafts, then queued for Covage.

Nothing here waits on Covage: every change is saved locally and the sync is queued after
the transaction commits (orders.dispatch.enqueue_sync).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders import dispatch
from orders.models import LineContact, OrderLine, OrderSession, SyncStatus
from orders.services.errors import (
    InvalidLineError,
    LockedError,
    OfferFixedError,
    OrderError,
    StaleLineError,
)
from orders.services.events import msgid, msgids, record
from orders.steps import PERSON_FIELDS, STEPS_BY_SLUG

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A second "Retry" of one session within this delay queues nothing: the first sends it all.
RETRY_DEBOUNCE = timedelta(seconds=30)


def default_line_external_id(session: OrderSession, line: OrderLine) -> str:
    return f"{session.external_id}-L{line.pk}"


def queue_sync(session: OrderSession) -> None:
    dispatch.enqueue_sync(session.pk)


def ensure_editable(session: OrderSession) -> None:
    if session.is_locked:
        raise LockedError()


@transaction.atomic
def create_session(*, user: User, external_id: str = "", project_id: str = "") -> OrderSession:
    """A local draft; Covage hears of it when its first line is saved."""
    session = OrderSession(owner=user, project_id=project_id.strip())
    if external_id.strip():
        session.external_id = external_id.strip()
    session.save()
    record(session=session, user=user, action="session_created", message=session.external_id)
    return session


@transaction.atomic
def add_line(*, user: User, session: OrderSession) -> OrderLine:
    session = OrderSession.objects.select_for_update().get(pk=session.pk)
    ensure_editable(session)
    last = session.lines.aggregate(last=Max("position"))["last"] or 0
    line = OrderLine.objects.create(session=session, position=last + 1)
    # The line's external id carries our id, so that a line whose creation answer was lost
    # can be recognised among the session's lines at Covage.
    line.external_id = default_line_external_id(session, line)
    line.save(update_fields=["external_id"])
    LineContact.objects.create(line=line, position=0)
    record(
        session=session,
        user=user,
        line=line,
        action="line_added",
        message=gettext_noop("Line %(position)s"),
        message_params={"position": last + 1},
    )
    return line


# The offer is fixed once Covage has the line: its PATCH takes neither of these (only the
# creating POST does), so a change could never reach Covage. Another offer means another line
# (orders.services.replace).
OFFER_FIELDS = ("offer_family", "offer_technology")

# The line fields people type, over the five steps (external_id included).
EDITABLE_LINE_FIELDS = tuple(
    dict.fromkeys(name for step in STEPS_BY_SLUG.values() for name in step.line_fields)
)
EDITABLE_CONTACT_FIELDS = tuple(
    dict.fromkeys(name for step in STEPS_BY_SLUG.values() for name in step.contact_fields)
)


def offer_is_fixed(line: OrderLine) -> bool:
    """True once the line exists at Covage."""
    return bool(line.covage_id)


def check_line_change(line: OrderLine, data: dict[str, Any], version: int) -> None:
    """Raise the refusal that saving `data` (line fields) over `line`, opened at `version`,
    meets: the session is locked, someone saved the line meanwhile, or the offer of a line
    Covage has would change. Forms call it to show the refusal on the form; `save_line`
    calls it again on the locked row."""
    ensure_editable(line.session)
    if line.version != version:
        raise StaleLineError(saved_at=line.updated_at, current_version=line.version)
    if offer_is_fixed(line):
        changed = [
            name
            for name in OFFER_FIELDS
            if name in data and (data[name] or "") != (getattr(line, name) or "")
        ]
        if changed:
            raise OfferFixedError(fields=changed)


@transaction.atomic
def save_line(
    *,
    user: User,
    line: OrderLine,
    data: dict[str, Any],
    contact_data: dict[str, Any] | None = None,
    entries: list[dict[str, Any]] | None = None,
    version: int,
    title: object = "",
    queue: bool = True,
) -> OrderLine:
    """Save a line's values as a draft and queue its sync: the one write path of the step
    pages and the admin.

    `data` holds line fields, `contact_data` fields of the first contact entry (both by
    model field name; missing ones are left as they are). `entries`, when given, are the
    people (PERSON_FIELDS) of the contact entries after the first, in their new order: the
    line's further entries become exactly these (added, changed, moved or removed). Every
    entry repeats entry 0's end customer and site. The version the form was opened
    with must still be the line's: otherwise someone saved it meanwhile and this save would
    overwrite their work. `title` names where the change was made, in the event recorded
    (a label marked for translation: the event keeps its msgid). A caller saving many
    lines at once (an import) passes `queue=False` and queues the session's sync once.
    """
    unknown = (set(data) - set(EDITABLE_LINE_FIELDS)) | (
        set(contact_data or {}) - set(EDITABLE_CONTACT_FIELDS)
    )
    if unknown:
        raise ValueError(f"Not fields people edit: {sorted(unknown)}")
    locked = OrderLine.objects.select_for_update().select_related("session").get(pk=line.pk)
    if locked.deleted_at is not None:
        raise OrderError(_("This line has been deleted: it can no longer be changed."))
    check_line_change(locked, data, version)

    if "external_id" in data and not str(data["external_id"] or "").strip():
        # Blank means "let the portal number it": the id is how a line whose creation answer
        # was lost is recognised at Covage, so it is never left empty.
        data = {**data, "external_id": default_line_external_id(locked.session, locked)}
    changed: list[str] = []
    for name, value in data.items():
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name)
    contact, contact_changes = _first_contact_changes(locked, contact_data or {})
    _validate(locked, changed, contact, contact_changes)
    further = _further_entries(locked, entries)

    if changed or contact_changes or further is not None:
        if contact is not None and contact_changes:
            contact.save()
        if further is not None:
            _replace_further_entries(locked, further)
            contact_changes = [*contact_changes, "related_contact_information"]
        _repeat_first_entry(locked)
        locked.version += 1
        locked.sync_status = SyncStatus.SYNCING
        locked.save()
        fields = _labels(changed, contact_changes)
        record(
            session=locked.session,
            user=user,
            line=locked,
            action="line_saved",
            # The labels' msgids, translated when shown (orders.events.TRANSLATED_PARAMS).
            message=gettext_noop("%(step)s: %(fields)s") if title else "%(fields)s",
            message_params={"step": msgid(title), "fields": fields}
            if title
            else {"fields": fields},
        )
        if queue:
            queue_sync(locked.session)
    return locked


def save_line_step(
    *,
    user: User,
    line: OrderLine,
    step: str,
    data: dict[str, Any],
    version: int,
    entries: list[dict[str, Any]] | None = None,
) -> OrderLine:
    """Save one step of a line (`data` holds the step's line fields and the fields of the
    first contact entry), through `save_line`."""
    definition = STEPS_BY_SLUG[step]
    # One "End customer name" on screen: it is both in the step's line fields and in its
    # contact fields, since Covage has it on the line and in the contact entry.
    line_data = {name: data[name] for name in definition.line_fields if name in data}
    contact_data = {name: data[name] for name in definition.contact_fields if name in data}
    return save_line(
        user=user,
        line=line,
        data=line_data,
        contact_data=contact_data,
        entries=entries,
        version=version,
        title=definition.title,
    )


def _verbose_name(model: type[OrderLine] | type[LineContact], name: str) -> object:
    field = model._meta.get_field(name)
    return getattr(field, "verbose_name", name)


# What the history calls a change of the further contact entries.
FURTHER_ENTRIES = gettext_noop("Further contact entries")


def _labels(line_fields: list[str], contact_fields: list[str]) -> list[str]:
    """The changed fields' labels as msgids (never their values: no personal data)."""
    labels = [_verbose_name(OrderLine, name) for name in line_fields]
    labels += [
        FURTHER_ENTRIES
        if name == "related_contact_information"
        else _verbose_name(LineContact, name)
        for name in contact_fields
        if name not in line_fields
    ]
    return list(dict.fromkeys(msgids(labels)))


def _first_contact_changes(
    line: OrderLine, data: dict[str, Any]
) -> tuple[LineContact | None, list[str]]:
    """The first contact entry with `data` applied (not saved), and the fields it changed."""
    if not data:
        return None, []
    contact = LineContact.objects.filter(line=line, position=0).first()
    if contact is None:
        contact = LineContact(line=line, position=0)
    changed = []
    for name, value in data.items():
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
    return contact, changed


# The fields every entry repeats from entry 0: the end customer and the site.
SHARED_ENTRY_FIELDS = tuple(name for name in EDITABLE_CONTACT_FIELDS if name not in PERSON_FIELDS)


def _person(values: dict[str, Any]) -> dict[str, Any]:
    return {name: values.get(name) or "" for name in PERSON_FIELDS}


def _further_entries(
    line: OrderLine, entries: list[dict[str, Any]] | None
) -> list[LineContact] | None:
    """The further entries `entries` asks for (not saved, checked), or None when they are
    the line's already (or were not given)."""
    if entries is None:
        return None
    wanted = [_person(values) for values in entries]
    current = [
        _person({name: getattr(entry, name) for name in PERSON_FIELDS})
        for entry in line.contacts.filter(position__gt=0).order_by("position")
    ]
    if wanted == current:
        return None
    rows = [
        LineContact(line=line, position=index, **values) for index, values in enumerate(wanted, 1)
    ]
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(rows, 1):
        exclude = [f.name for f in row._meta.fields if f.name not in PERSON_FIELDS]
        try:
            row.clean_fields(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                key = f"contacts-{index - 1}-{name}"
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise InvalidLineError(errors)
    return rows


def _replace_further_entries(line: OrderLine, rows: list[LineContact]) -> None:
    line.contacts.filter(position__gt=0).delete()
    for row in rows:
        row.save()


def _repeat_first_entry(line: OrderLine) -> None:
    """Every further entry repeats entry 0's end customer and site (a line is one site)."""
    first = LineContact.objects.filter(line=line, position=0).first()
    if first is None:
        return
    values = {name: getattr(first, name) for name in SHARED_ENTRY_FIELDS}
    line.contacts.filter(position__gt=0).update(**values)


def _validate(
    line: OrderLine, changed: list[str], contact: LineContact | None, contact_changes: list[str]
) -> None:
    """The model fields' own checks (lengths, e-mail formats) on what changed: the forms
    check formats first, this keeps any other caller from storing what a column cannot
    hold or sending it to Covage."""
    errors: dict[str, list[str]] = {}
    for instance, names in ((line, changed), (contact, contact_changes)):
        if instance is None or not names:
            continue
        exclude = [f.name for f in instance._meta.fields if f.name not in names]
        try:
            instance.clean_fields(exclude=exclude)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise InvalidLineError(errors)


@transaction.atomic
def duplicate_line(*, user: User, line: OrderLine) -> OrderLine:
    """A new draft with the same values; nothing Covage gave the original is copied."""
    session = OrderSession.objects.select_for_update().get(pk=line.session_id)
    ensure_editable(session)
    copy = copy_line_into(line, session)
    record(
        session=session,
        user=user,
        line=copy,
        action="line_duplicated",
        message=gettext_noop("Line %(position)s copied from line %(source)s"),
        message_params={"position": copy.position, "source": line.position},
    )
    queue_sync(session)
    return copy


USER_LINE_FIELDS = tuple(
    name for step in STEPS_BY_SLUG.values() for name in step.line_fields if name != "external_id"
)


def copy_line_into(
    line: OrderLine, session: OrderSession, *, position: int | None = None
) -> OrderLine:
    """A new draft of `session` with the values people typed on `line` and its contacts;
    nothing Covage gave `line` is copied. It takes the next position unless told one."""
    if position is None:
        position = (session.lines.aggregate(last=Max("position"))["last"] or 0) + 1
    copy = OrderLine(session=session, position=position, sync_status=SyncStatus.SYNCING)
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
def delete_line(*, user: User, line: OrderLine) -> None:
    """The line disappears at once; if Covage has it, it is kept until Covage deletes it."""
    locked = OrderLine.objects.select_for_update().select_related("session").get(pk=line.pk)
    ensure_editable(locked.session)
    remove_locked_line(user=user, line=locked)


def remove_locked_line(
    *,
    user: User,
    line: OrderLine,
    message: str = "",
    message_params: Mapping[str, Any] | None = None,
) -> None:
    """Delete `line`, whose row the caller's transaction holds: a line Covage has is marked
    deleted and queued, so that the sync DELETEs it at Covage before forgetting it; any other
    is simply removed. A line already waiting for its DELETE is left as it is. The event says
    `message` (a msgid, with `message_params`), by default the line's position."""
    if line.deleted_at is not None:
        return
    record(
        session=line.session,
        user=user,
        line=None,
        action="line_deleted",
        message=message or gettext_noop("Line %(position)s"),
        message_params=message_params if message else {"position": line.position},
    )
    if line.covage_id:
        line.deleted_at = timezone.now()
        line.sync_status = SyncStatus.SYNCING
        line.save()
        queue_sync(line.session)
    else:
        line.delete()


@transaction.atomic
def request_sync(*, user: User, session: OrderSession) -> bool:
    """The "Retry" action: send again whatever Covage has not got. Returns False when a
    retry of the session was queued less than RETRY_DEBOUNCE ago (a double click, two tabs):
    that one sends everything, so nothing more is queued."""
    session = OrderSession.objects.select_for_update().get(pk=session.pk)
    now = timezone.now()
    if session.retry_requested_at and session.retry_requested_at > now - RETRY_DEBOUNCE:
        return False
    session.lines.filter(rejected_version__gt=0).update(rejected_version=0)
    session.lines.exclude(sync_status=SyncStatus.SYNCED).update(sync_status=SyncStatus.SYNCING)
    # A person asked: the automatic bound starts again.
    session.automatic_retries = 0
    session.retry_requested_at = now
    session.save(update_fields=["automatic_retries", "retry_requested_at"])
    record(session=session, user=user, action="sync_requested")
    queue_sync(session)
    return True
