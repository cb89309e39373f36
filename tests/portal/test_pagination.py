"""portal.pagination.paginate: Paginator.get_page's pages, without the COUNT for one page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.paginator import Paginator

from portal.pagination import paginate

NUMBERS = (None, "", "1", "01", "x", "1.5", "2", "3", "0", "-1", "999")


def groups(count: int) -> None:
    Group.objects.bulk_create(Group(name=f"group-{index:03d}") for index in range(count))


def ordered():
    return Group.objects.filter(name__startswith="group-").order_by("name")


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, 1, 4, 5, 6, 12])
def test_the_same_page_as_get_page_for_every_number(count):
    groups(count)
    for number in NUMBERS:
        expected = Paginator(ordered(), 5).get_page(number)
        page = paginate(ordered(), number, 5)
        assert (page.number, list(page.object_list)) == (
            expected.number,
            list(expected.object_list),
        ), number
        assert (page.paginator.count, page.paginator.num_pages) == (
            expected.paginator.count,
            expected.paginator.num_pages,
        ), number
        assert (page.has_next(), page.has_previous()) == (
            expected.has_next(),
            expected.has_previous(),
        ), number


@pytest.mark.django_db
def test_a_list_that_fits_on_its_first_page_is_read_in_one_query(django_assert_num_queries):
    groups(5)
    with django_assert_num_queries(1):
        page = paginate(ordered(), None, 5)
        assert (len(page.object_list), page.paginator.count, page.paginator.num_pages) == (5, 5, 1)


@pytest.mark.django_db
def test_a_longer_list_costs_the_page_and_the_count(django_assert_num_queries):
    groups(6)
    with django_assert_num_queries(2):
        page = paginate(ordered(), "1", 5)
        assert (len(page.object_list), page.paginator.count, page.paginator.num_pages) == (5, 6, 2)
    with django_assert_num_queries(2):
        page = paginate(ordered(), "2", 5)
        assert [group.name for group in page.object_list] == ["group-005"]
