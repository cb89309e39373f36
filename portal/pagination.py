"""Pages of the lists: Django's Paginator, without its COUNT query when a list fits on its
first page.

Paginator.get_page counts the rows first (to check the page number), then reads the page.
Most lists a salesperson opens (their sessions, a search, their notifications) fit on one
page: then the first page, read with one row more than it holds, says the count by itself
(and a longer list costs no more queries than before: the first page, then the count).
That COUNT was a sixth of the sessions list's database work under load (issue 13).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


def paginate(objects: QuerySet[Any] | Sequence[Any], number: Any, per_page: int) -> Page:
    """What `Paginator(objects, per_page).get_page(number)` returns, the same for every
    `number` (a missing or non-numeric one is the first page; one past the end, the last)."""
    paginator = Paginator(objects, per_page)
    if not _first_page(number):
        return paginator.get_page(number)
    rows = list(objects[: per_page + 1])
    if len(rows) <= per_page:
        # Setting the cached property: this paginator never counts.
        paginator.count = len(rows)
    # Page 1 always exists; a longer list is counted when the page asks for its size.
    return Page(rows[:per_page], 1, paginator)


def _first_page(number: Any) -> bool:
    try:
        return int(number) == 1
    except (TypeError, ValueError):
        # get_page shows the first page for anything that is not a whole number.
        return True
