"""Replacing a line with a copy that orders another offer.

Covage's PATCH of a line takes neither `offer_family` nor `offer_technology` (only the
creating POST does): once Covage has a line, its offer is fixed. Another offer is another
line, so replacing is one explicit action, agreed to by the user: the old line is deleted as
"Delete" does (kept, marked deleted, until the sync has DELETEd it at Covage) and a copy of
everything typed on it, with the new offer, is created at its position and queued.

The copy keeps the old line's external id when the salesperson typed it (their own
reference, to find the line later); a portal-numbered id is not kept, since it names the old
line's row, and the copy gets its own. Keeping a typed id is safe at Covage: the sync DELETEs
removed lines before it creates any (and stops before creating if a DELETE fails), so two
live lines at Covage never carry it, and the look-up after an ambiguous create skips remote
lines linked to another portal line, the old one included while its DELETE is pending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.models import OrderLine, OrderSession
from orders.services.drafts import (
    copy_line_into,
    default_line_external_id,
    ensure_editable,
    queue_sync,
    remove_locked_line,
)
from orders.services.errors import OrderError
from orders.services.events import record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NO_OFFER = gettext_noop("no offer")


def _offer_msgid(family: str, technology: str) -> str:
    return " · ".join(part for part in (family, technology) if part) or NO_OFFER


def offer_text(family: str, technology: str) -> str:
    """The offer in words, in the active language."""
    return _(_offer_msgid(family, technology))


@transaction.atomic
def replace_line(
    *, user: User, line: OrderLine, offer_family: str, offer_technology: str
) -> OrderLine:
    """Delete `line` (at Covage too, through the sync) and create a copy of it with the new
    offer; returns the copy. Refused once the session is locked."""
    session = OrderSession.objects.select_for_update().get(pk=line.session_id)
    ensure_editable(session)
    locked = OrderLine.objects.select_for_update().select_related("session").get(pk=line.pk)
    if locked.deleted_at is not None:
        raise OrderError(_("This line has already been deleted or replaced."))
    offer_family = offer_family.strip().upper()
    offer_technology = offer_technology.strip()
    if (offer_family, offer_technology) == (locked.offer_family, locked.offer_technology):
        raise OrderError(
            _("The line already has this offer: choose another offer family or technology.")
        )

    copy = copy_line_into(locked, session, position=locked.position)
    copy.offer_family = offer_family
    copy.offer_technology = offer_technology
    if locked.external_id and locked.external_id != default_line_external_id(session, locked):
        copy.external_id = locked.external_id
    copy.save(update_fields=["offer_family", "offer_technology", "external_id"])

    # The events keep msgids ("no offer"), translated when shown.
    old_offer = _offer_msgid(locked.offer_family, locked.offer_technology)
    new_offer = _offer_msgid(offer_family, offer_technology)
    remove_locked_line(
        user=user,
        line=locked,
        message=gettext_noop("Line %(position)s, replaced by a line with another offer"),
        message_params={"position": locked.position},
    )
    record(
        session=session,
        user=user,
        line=copy,
        action="line_replaced",
        message=gettext_noop("Line %(position)s: offer %(old_offer)s replaced by %(new_offer)s"),
        message_params={"position": copy.position, "old_offer": old_offer, "new_offer": new_offer},
    )
    queue_sync(session)
    return copy
