"""The directory's pages: the list with its search, one customer, and the two htmx searches
of the line steps (customers to pick, addresses). Reads through selectors; the one write of
a line step ("Save this customer to the directory") is the line step's own POST."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from directory import addresses, selectors

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails

    class AuthenticatedRequest(HttpRequest):
        user: User
        htmx: HtmxDetails
else:
    AuthenticatedRequest = HttpRequest

MAX_QUERY = 100


def _query(request: HttpRequest, name: str) -> str:
    return request.GET.get(name, "").strip()[:MAX_QUERY]


@require_GET
def customer_list(request: AuthenticatedRequest) -> HttpResponse:
    """The whole page; typing in the search gets the results alone (same URL, hence Vary)."""
    query = _query(request, "q")
    context = {"query": query, "customers": selectors.search_customers(query, limit=50)}
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "directory/partials/customer_results.html" if partial else "directory/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def customer_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    customer = selectors.customer(pk)
    context = {
        "customer": customer,
        "sites": selectors.sites_of(customer),
        "contacts": selectors.contacts_of(request.user, customer),
        "events": selectors.customer_events(customer),
    }
    return render(request, "directory/detail.html", context)


@require_GET
def pick_customers(request: AuthenticatedRequest) -> HttpResponse:
    """Customers to pick on a line's customer step: buttons of the step's form."""
    query = _query(request, "directory_q")
    customers = selectors.search_customers(query, limit=8) if query else []
    return render(
        request,
        "directory/partials/pick_customers.html",
        {"query": query, "customers": customers},
    )


@require_GET
def address_results(request: AuthenticatedRequest) -> HttpResponse:
    """Addresses to pick on a line's site step (the BAN, at most about a second)."""
    query = _query(request, "address_q")
    unavailable = False
    found: list[addresses.Address] = []
    if len(query) >= addresses.MIN_QUERY:
        try:
            found = addresses.search(query)
        except addresses.AddressSearchUnavailable:
            unavailable = True
    return render(
        request,
        "directory/partials/address_results.html",
        {
            "query": query,
            "addresses": found,
            "unavailable": unavailable,
            "too_short": 0 < len(query) < addresses.MIN_QUERY,
        },
    )
