"""The reconciliation page: the differences between Covage's exports and the portal, for the
back office, and the three ways to resolve one (push again, link, dismiss with a reason).

Views stay thin: selectors read, services change. Every change is a POST; a mistake (a
difference resolved meanwhile, a missing reason) comes back as a message, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from portal.pagination import paginate
from portal.roles import is_back_office
from reconciliation import selectors, services
from reconciliation.forms import DismissForm, FilterForm, LinkForm
from reconciliation.models import Difference

PAGE_SIZE = 20

View = Callable[..., HttpResponse]


def back_office_only(view: View) -> View:
    """The page is the back office's: anyone else is refused (a login is asked first by the
    middleware), whatever the method."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_back_office(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("reconciliation:list")


def _list_context(
    query: QueryDict, *, here: str, bound: dict[int, dict[str, django_forms.Form]] | None = None
) -> dict[str, Any]:
    filter_form = FilterForm(query if query else None)
    filters = filter_form.filters()
    try:
        only = int(query.get("difference", ""))
    except ValueError:
        only = None
    page = paginate(selectors.differences(**filters, pk=only), query.get("page"), PAGE_SIZE)
    items = list(page.object_list)
    selectors.attach_link_candidates(items)
    bound = bound or {}
    for difference in items:
        own = bound.get(difference.pk, {})
        difference.dismiss_form = own.get("dismiss") or DismissForm(  # type: ignore[attr-defined]
            prefix=f"dismiss-{difference.pk}"
        )
        locked = difference.kind in (Difference.Kind.VALUE, Difference.Kind.MISSING_AT_COVAGE) and (
            difference.session is not None and difference.session.is_locked
        )
        difference.session_locked = locked  # type: ignore[attr-defined]
        difference.can_push_again = (  # type: ignore[attr-defined]
            services.can_push_again(difference) and not locked
        )
    return {
        "here": here,
        "filter_form": filter_form,
        "filters": filters,
        "only": only,
        "page": page,
        "differences": items,
        "open_counts": selectors.open_counts(),
        "kinds": Difference.Kind,
        "comparisons": selectors.latest_comparisons(),
        "cap": services.max_new_per_kind(),
    }


@back_office_only
def difference_list(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    context = _list_context(request.GET, here=request.get_full_path())
    return render(request, "reconciliation/difference_list.html", context)


def _difference(request: HttpRequest, pk: int) -> Difference | HttpResponse:
    difference = get_object_or_404(Difference, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return difference


@back_office_only
def push_again(request: HttpRequest, pk: int) -> HttpResponse:
    difference = _difference(request, pk)
    if isinstance(difference, HttpResponse):
        return difference
    try:
        resolved = services.resolve_push_again(user=request.user, difference=difference)
    except services.ResolutionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(subject)s: %(resolution)s The sync sends it in the background.")
            % {"subject": resolved.subject, "resolution": resolved.resolution_text},
        )
    return redirect(_next_url(request))


@back_office_only
def link(request: HttpRequest, pk: int) -> HttpResponse:
    difference = _difference(request, pk)
    if isinstance(difference, HttpResponse):
        return difference
    form = LinkForm(
        request.POST,
        candidates=selectors.link_candidates(difference),
        prefix=f"link-{difference.pk}",
    )
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("target", [])))
        return redirect(_next_url(request))
    try:
        resolved = services.resolve_link(
            user=request.user, difference=difference, target=form.cleaned_data["target"]
        )
    except services.ResolutionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, resolved.resolution_text)
    return redirect(_next_url(request))


@back_office_only
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    difference = _difference(request, pk)
    if isinstance(difference, HttpResponse):
        return difference
    form = DismissForm(request.POST, prefix=f"dismiss-{difference.pk}")
    if form.is_valid():
        try:
            services.dismiss(
                user=request.user, difference=difference, reason=form.cleaned_data["reason"]
            )
        except services.ResolutionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Difference dismissed; the reason is kept with it."))
        return redirect(_next_url(request))
    # The page again, as it was, with the message on the reason field.
    here = _next_url(request)
    query = QueryDict(urlsplit(here).query)
    context = _list_context(query, here=here, bound={difference.pk: {"dismiss": form}})
    if all(item.pk != difference.pk for item in context["differences"]):
        messages.error(request, " ".join(form.errors.get("reason", [])))
    return render(request, "reconciliation/difference_list.html", context, status=400)
