"""The bell, the list of notifications and the e-mail preferences (thin views)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from notifications import selectors
from notifications.forms import PreferenceForm
from notifications.services.create import mark_read, preference_for, save_preferences
from portal.pagination import paginate

PAGE_SIZE = 30


class AuthenticatedRequest(HttpRequest):
    user: User


@require_safe
def bell(request: AuthenticatedRequest) -> HttpResponse:
    """The bell and its unread count (an htmx partial the layout loads)."""
    response = render(
        request,
        "notifications/partials/bell.html",
        {"unread": selectors.unread_count(request.user)},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    """The user's notifications, newest first; those shown are marked read (they stay
    highlighted on this showing)."""
    page = paginate(selectors.notifications_for(request.user), request.GET.get("page"), PAGE_SIZE)
    shown = list(page.object_list)
    mark_read(user=request.user, ids=[n.pk for n in shown if n.read_at is None])
    return render(request, "notifications/list.html", {"page": page, "shown": shown})


@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    instance = preference_for(request.user)
    if instance.pk is None:  # never saved: offer the language the portal is shown in
        instance.language = _current_language()
    form = PreferenceForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        save_preferences(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notifications:preferences")
    status = 400 if request.method == "POST" else 200
    return render(request, "notifications/preferences.html", {"form": form}, status=status)


def _current_language() -> str:
    language = (translation.get_language() or "").split("-")[0]
    return language or str(settings.LANGUAGE_CODE)
