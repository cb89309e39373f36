"""Order entry pages. Views stay thin: selectors read, services write, forms parse, templates
show. Every view that takes a session or line id looks it up through a selector first, so that
another sales user's objects answer 404 whatever the method; only then is the method checked.

A user's mistake never ends in a 500: services raise `OrderError` with messages written for
the user, shown here as messages. No view calls Covage, so none meets Covage's errors: services
only queue that work, forms read the referentials stored by a background task, and
covage.guard refuses any call made while a request is served.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory import prefill
from directory import selectors as directory_selectors
from directory import services as directory_services
from orders import forms, selectors, services
from orders.confirmation import Problem, check_session, has_cpe_option, is_dia
from orders.explain import explain
from orders.models import OrderLine, OrderSession, SyncStatus
from orders.services.confirm import covage_problems
from orders.services.errors import InvalidLineError, OfferFixedError
from orders.services.replace import offer_text, replace_line
from orders.steps import (
    ADDRESS,
    CUSTOMER,
    STEPS,
    STEPS_BY_SLUG,
    Step,
    entry_error_key,
    field_anchor,
    next_step,
    previous_step,
    split_property_path,
    step_for_field,
)
from portal.pagination import paginate

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails


class AuthenticatedRequest(HttpRequest):
    """What these views get: LoginRequiredMiddleware lets no anonymous request reach them,
    and django-htmx adds `htmx`."""

    user: User
    htmx: HtmxDetails


PAGE_SIZE = 25

LOCKED_MESSAGE = gettext_lazy(
    "This session is being confirmed or is confirmed at Covage: its lines can no longer be changed."
)
CONFLICT_MESSAGE = gettext_lazy(
    "Someone else saved this line at %(time)s; your changes are below — review and save again."
)
OFFER_REFUSED_MESSAGE = gettext_lazy(
    "Covage already has this line and cannot change its offer. Your values are below; the "
    "offer fields say what to do."
)
INVALID_MESSAGE = gettext_lazy(
    "Some values are not in the expected format: they are marked below and were not saved. "
    "Everything else you typed was saved as a draft."
)


def _not_allowed(request: AuthenticatedRequest, *methods: str) -> HttpResponse | None:
    if request.method not in methods:
        return HttpResponseNotAllowed(methods)
    return None


def _vary_on_htmx(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request",))
    return response


def _is_partial(request: AuthenticatedRequest) -> bool:
    # A history restore (Back button after hx-push-url) needs the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


# --- Sessions list and new session ------------------------------------------------------------


def session_list(request: AuthenticatedRequest) -> HttpResponse:
    """The whole page; an htmx request (typing in the search box, changing a filter, paging)
    gets the results alone, from the same URL, hence `Vary: HX-Request`."""
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    filter_form = forms.SessionFilterForm(request.GET or None)
    filters = filter_form.filters()
    sessions = selectors.sessions_for(request.user, **filters)
    page = paginate(sessions, request.GET.get("page"), PAGE_SIZE)
    context = {"filter_form": filter_form, "page": page, "filtered": bool(filters)}
    template = (
        "orders/partials/session_results.html"
        if _is_partial(request)
        else ("orders/session_list.html")
    )
    return _vary_on_htmx(render(request, template, context))


def new_session(request: AuthenticatedRequest) -> HttpResponse:
    if response := _not_allowed(request, "GET", "HEAD", "POST"):
        return response
    form = forms.NewSessionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.create_session(
                user=request.user,
                external_id=form.cleaned_data["external_id"],
                project_id=form.cleaned_data["project_id"],
            )
        except services.OrderError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Order session %(session)s created. Add its first line.")
                % {"session": session.external_id},
            )
            return redirect("orders:session", session.pk)
    return render(request, "orders/session_new.html", {"form": form})


# --- Session page ------------------------------------------------------------------------------


@dataclass
class LineRow:
    line: OrderLine
    customer: str
    edit_url: str
    error_steps: list[Step] = field(default_factory=list)
    # Covage's termination errors in words, each with the URL of the step that fixes it.
    rejections: list[tuple[str, str]] = field(default_factory=list)


def _line_rows(session: OrderSession, lines: list[OrderLine]) -> list[LineRow]:
    rows = []
    for line in lines:
        customer = selectors.line_customer(line)
        errors = remote_errors_by_step(line)
        error_steps = [step for step in STEPS if step.slug in errors]
        first = error_steps[0] if error_steps else STEPS[0]
        rejections = []
        for error in line.termination_errors.all():
            explanation = explain(error)
            url = reverse("orders:line_step", args=[session.pk, line.pk, explanation.step.slug])
            anchor = field_anchor(explanation.field, contact_index=explanation.contact_index)
            rejections.append((explanation.message, f"{url}#{anchor}"))
        rows.append(
            LineRow(
                line=line,
                customer=customer,
                edit_url=reverse("orders:line_step", args=[session.pk, line.pk, first.slug]),
                error_steps=error_steps,
                rejections=rejections,
            )
        )
    return rows


def _lines_context(session: OrderSession) -> dict[str, Any]:
    lines = selectors.live_lines(session)
    following = selectors.is_following_covage(session)
    polling = (
        following
        or session.settle_after is not None  # waiting for an export: it settles by itself
        or selectors.has_syncing_lines(lines)
        or session.sync_status
        in (
            SyncStatus.SYNCING,
            SyncStatus.CONFIRMING,
        )
    )
    decided, total = selectors.confirmation_progress(session, lines)
    return {
        "session": session,
        "sent_for_confirmation": bool(session.confirm_requested_at or session.confirmed_at),
        "following": following,
        "decided": decided,
        "total": total,
        "percent": round(100 * decided / total) if total else 0,
        "rows": _line_rows(session, lines),
        "locked": selectors.is_locked(session),
        "polling": polling,
        # Sending is quick; Covage's own decision can take much longer.
        "poll_seconds": 5 if following and session.sync_status != SyncStatus.CONFIRMING else 2,
        "has_rejected": selectors.has_rejected_lines(lines),
        "has_failed": any(line.sync_status == SyncStatus.SYNC_FAILED for line in lines)
        or session.sync_status == SyncStatus.SYNC_FAILED,
    }


def session_detail(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    session = selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    context = _lines_context(session)
    context["events"] = selectors.session_events(session)
    return render(request, "orders/session_detail.html", context)


def session_lines(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    """The lines table with their sync states, polled by htmx while something is syncing;
    the answer without a trigger stops the polling."""
    session = selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    context = _lines_context(session)
    # What the tasks did meanwhile goes to the history section too (an out-of-band swap).
    context.update(events=selectors.session_events(session), history_oob=True)
    return render(request, "orders/partials/session_lines.html", context)


def retry_sync(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    session = selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "POST"):
        return response
    try:
        queued = services.request_sync(user=request.user, session=session)
    except services.OrderError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(
            request,
            _("Sending the session to Covage again…")
            if queued
            else _("The session is already being sent again: give it a moment."),
        )
    return redirect("orders:session", session.pk)


def add_line(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    session = selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "POST"):
        return response
    try:
        line = services.add_line(user=request.user, session=session)
    except services.OrderError as exc:
        messages.error(request, str(exc))
        return redirect("orders:session", session.pk)
    return redirect("orders:line_step", session.pk, line.pk, STEPS[0].slug)


def duplicate_line(request: AuthenticatedRequest, session_pk: int, line_pk: int) -> HttpResponse:
    line = selectors.line_for(request.user, session_pk, line_pk)
    if response := _not_allowed(request, "POST"):
        return response
    try:
        copy = services.duplicate_line(user=request.user, line=line)
    except services.OrderError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Line %(position)s duplicated as line %(copy)s.")
            % {"position": line.position, "copy": copy.position},
        )
    return redirect("orders:session", session_pk)


def delete_line(request: AuthenticatedRequest, session_pk: int, line_pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    line = selectors.line_for(request.user, session_pk, line_pk)
    if response := _not_allowed(request, "GET", "HEAD", "POST"):
        return response
    if request.method == "POST":
        try:
            services.delete_line(user=request.user, line=line)
        except services.OrderError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Line %(position)s deleted.") % {"position": line.position})
        return redirect("orders:session", session_pk)
    customer = selectors.line_customer(line)
    return render(
        request,
        "orders/line_delete.html",
        {
            "session": line.session,
            "line": line,
            "customer": customer,
            "locked": selectors.is_locked(line.session),
        },
    )


def copy_rejected(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    session = selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "POST"):
        return response
    try:
        new = services.copy_rejected_lines(user=request.user, session=session)
    except services.OrderError as exc:
        messages.error(request, str(exc))
        return redirect("orders:session", session.pk)
    messages.success(
        request,
        _(
            "The rejected lines were copied to the new session %(session)s: correct them, "
            "then check and confirm it."
        )
        % {"session": new.external_id},
    )
    return redirect("orders:session", new.pk)


# --- Check and confirm -------------------------------------------------------------------------


@dataclass
class ProblemRow:
    problem: Problem
    label: str
    url: str


def _problem_groups(session: OrderSession, problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems grouped by line, in line order; session-wide ones (no line) first."""
    groups: dict[int | None, dict[str, Any]] = {}
    for problem in problems:
        line = problem.line
        key = line.pk if line is not None else None
        group = groups.setdefault(key, {"line": line, "problems": []})
        url = ""
        if line is not None and problem.step is not None:
            url = reverse("orders:line_step", args=[session.pk, line.pk, problem.step.slug])
            url += "#" + field_anchor(problem.field, contact_index=problem.contact_index)
        label = forms.label_for(problem.field) if line is not None else ""
        if problem.contact_index:
            label = _("%(label)s (contact entry %(number)s)") % {
                "label": label,
                "number": problem.contact_index + 1,
            }
        group["problems"].append(ProblemRow(problem, label, url))
    return sorted(
        groups.values(),
        key=lambda group: (group["line"] is not None, getattr(group["line"], "position", 0)),
    )


def _check_page(
    request: AuthenticatedRequest, session: OrderSession, problems: list[Problem], status: int = 200
) -> HttpResponse:
    context = {
        "session": session,
        "groups": _problem_groups(session, problems),
        "problem_count": len(problems),
        "locked": selectors.is_locked(session),
        "line_count": len(selectors.live_lines(session)),
    }
    return render(request, "orders/session_check.html", context, status=status)


def check(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    session = selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    lines = selectors.live_lines(session)
    # The same list the confirmation gives: the rules, then what Covage refused.
    problems = check_session(session, lines=lines) + covage_problems(session, lines)
    return _check_page(request, session, problems)


def confirm(request: AuthenticatedRequest, session_pk: int) -> HttpResponse:
    session = selectors.session_for(request.user, session_pk)
    if response := _not_allowed(request, "POST"):
        return response
    try:
        problems = services.request_confirmation(user=request.user, session=session)
    except services.OrderError as exc:
        messages.error(request, str(exc))
        return redirect("orders:session", session.pk)
    if problems:
        return _check_page(request, session, problems)
    messages.success(
        request,
        _(
            "Session %(session)s is being confirmed at Covage. This page shows each line's "
            "state as Covage answers."
        )
        % {"session": session.external_id},
    )
    return redirect("orders:session", session.pk)


# --- A line, step by step ----------------------------------------------------------------------


def remote_errors_by_step(line: OrderLine) -> dict[str, dict[str, list[str]]]:
    """Covage's field errors (keyed by wire path) and the reasons it rejected the order, as
    {step slug: {form field: [messages]}}."""
    result: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for path, raw in (line.remote_errors or {}).items():
        field_name, index = split_property_path(str(path))
        step = step_for_field(field_name, contact_index=index)
        # Covage's own words, or the portal's msgid when Covage gave none (services.sync).
        messages_ = [_(str(message)) for message in (raw if isinstance(raw, list) else [raw])]
        key = entry_error_key(field_name, index)
        if key != field_name:
            # On the further entry's own field (the formset of the customer step).
            result[step.slug].setdefault(key, []).extend(messages_)
            continue
        if index:
            messages_ = [
                _("Contact entry %(number)s: %(message)s")
                % {"number": index + 1, "message": message}
                for message in messages_
            ]
        result[step.slug].setdefault(field_name, []).extend(messages_)
    # Why Covage rejected the order, on the same fields (a copy of the line starts clean).
    for error in line.termination_errors.all():
        explanation = explain(error)
        key = entry_error_key(explanation.field, explanation.contact_index)
        result[explanation.step.slug].setdefault(key, []).append(
            _("Rejected by Covage: %(reason)s") % {"reason": explanation.message}
        )
    return dict(result)


def _step_nav(line: OrderLine, current: Step, errors: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "step": step,
            "number": number,
            "current": step.slug == current.slug,
            "url": reverse("orders:line_step", args=[line.session_id, line.pk, step.slug]),
            "has_errors": step.slug in errors,
        }
        for number, step in enumerate(STEPS, start=1)
    ]


def _summary(line: OrderLine) -> list[dict[str, Any]]:
    errors = remote_errors_by_step(line)
    parts = []
    for step in STEPS:
        step_errors = dict(errors.get(step.slug, {}))
        rows = [
            (name, label, value, step_errors.pop(name, []))
            for name, label, value in forms.step_summary(line, step)
        ]
        parts.append(
            {
                "step": step,
                "rows": rows,
                "url": reverse("orders:line_step", args=[line.session_id, line.pk, step.slug]),
                "errors": errors.get(step.slug, {}),
                # Messages about fields the summary does not show.
                "other_errors": step_errors,
            }
        )
    return parts


def _directory_context(
    request: AuthenticatedRequest, line: OrderLine, step: Step
) -> dict[str, Any]:
    """The directory's part of the customer and address steps: the line's customer in the
    directory (found by its SIRET or name), its sites and the contacts the user may see, and
    the duplicates a "Save to the directory" met."""
    if step.slug not in (CUSTOMER.slug, ADDRESS.slug):
        return {}
    customer = directory_selectors.customer_for_line(line)
    duplicates = []
    raw = request.GET.get("duplicates", "")
    ids = [int(part) for part in raw.split(",") if part.isdigit()][:10]
    if ids:
        duplicates = directory_selectors.customers_by_ids(ids)
    return {
        "directory_customer": customer,
        "directory_sites": directory_selectors.sites_of(customer) if customer else [],
        "directory_contacts": directory_selectors.contacts_of(request.user, customer)
        if customer
        else [],
        "directory_duplicates": duplicates,
    }


def _render_step(
    request: AuthenticatedRequest,
    line: OrderLine,
    step: Step,
    form: forms.StepForm,
    *,
    entries: forms.BaseContactEntryFormSet | None = None,
    conflict: str = "",
    invalid: bool = False,
    refused: object = "",
) -> HttpResponse:
    errors = remote_errors_by_step(line)
    if not form.is_bound:
        form.show_remote_errors(errors.get(step.slug, {}))
    if step.slug == CUSTOMER.slug and entries is None:
        entries = forms.contact_entries(line, add=1 if request.GET.get("add_entry") else 0)
    if entries is not None:
        entries.show_remote_errors(errors.get(step.slug, {}))
    context = {
        "session": line.session,
        "line": line,
        "step": step,
        "form": form,
        "entries": entries,
        "nav": _step_nav(line, step, errors),
        "previous": previous_step(step.slug),
        "next": next_step(step.slug),
        "conflict": conflict,
        "refused": refused,
        "invalid": invalid,
        "invalid_message": INVALID_MESSAGE,
        "remote_errors": errors.get(step.slug, {}),
        "summary": _summary(line) if step.slug == "review" else None,
        "is_dia": is_dia(line),
        "has_cpe": has_cpe_option(line),
        "stale_cpe": not has_cpe_option(line)
        and (line.cpe_networking_number or line.cpe_serial_number),
        **_directory_context(request, line, step),
    }
    return render(request, "orders/line_step.html", context)


def _rebound(step: Step, line: OrderLine, data: Any) -> forms.StepForm:
    """The typed values again, on the line's current version (so that saving again works)."""
    data = data.copy()
    data["version"] = str(line.version)
    form = forms.step_form(step.slug, line=line, data=data)
    form.is_valid()
    return form


def _render_typed(
    request: AuthenticatedRequest, line: OrderLine, step: Step, posted: Any, **options: Any
) -> HttpResponse:
    """The step again with what the user typed, form and contact entries, nothing lost."""
    return _render_step(
        request,
        line,
        step,
        _rebound(step, line, posted),
        entries=_rebound_entries(step, line, posted),
        **options,
    )


def _rebound_entries(
    step: Step, line: OrderLine, data: Any
) -> forms.BaseContactEntryFormSet | None:
    if step.slug != CUSTOMER.slug:
        return None
    entries = forms.contact_entries(line, data)
    if entries is not None:
        entries.is_valid()
    return entries


def _changed(form: forms.StepForm) -> bool:
    saved = {name: forms._empty_if_none(name, value) for name, value in form.saved_values().items()}
    return form.step_data() != saved


def line_step(
    request: AuthenticatedRequest, session_pk: int, line_pk: int, step: str
) -> HttpResponse:
    line = selectors.line_for(request.user, session_pk, line_pk)
    if response := _not_allowed(request, "GET", "HEAD", "POST"):
        return response
    current = STEPS_BY_SLUG[step]
    if selectors.is_locked(line.session):
        if request.method == "POST":
            messages.error(request, LOCKED_MESSAGE)
        return redirect("orders:line", session_pk, line_pk)
    if request.method != "POST":
        return _render_step(request, line, current, forms.step_form(step, line=line))

    # A pick from the directory or the address search: its values over the posted ones.
    try:
        posted, picked = prefill.apply(user=request.user, line=line, post=request.POST)
    except LookupError as exc:
        raise Http404 from exc
    if current.slug == CUSTOMER.slug:
        posted = forms.with_entry_made_first(posted)
    form = forms.step_form(step, line=line, data=posted)
    valid = form.is_valid()
    entries = _rebound_entries(current, line, posted)
    if entries is not None:
        valid = entries.is_valid() and valid
    further = entries.changed_entries() if entries is not None else None
    version = getattr(form, "cleaned_data", {}).get("version")
    if version is None:
        version = -1  # no version sent: treat as stale rather than overwrite blindly
    if _changed(form) or further is not None:
        try:
            line = services.save_line_step(
                user=request.user,
                line=line,
                step=step,
                data=form.step_data(),
                version=version,
                entries=further,
            )
        except services.StaleLineError:
            line = selectors.line_for(request.user, session_pk, line_pk)
            saved_at = timezone.localtime(line.updated_at)
            return _render_typed(
                request,
                line,
                current,
                posted,
                conflict=CONFLICT_MESSAGE % {"time": time_format(saved_at, "H:i")},
            )
        except services.LockedError as exc:
            messages.error(request, str(exc) or str(LOCKED_MESSAGE))
            return redirect("orders:line", session_pk, line_pk)
        except OfferFixedError as exc:
            # Nothing was saved: the typed values come back, the refusal on the offer fields.
            form = _rebound(current, line, posted)
            for name in exc.fields:
                form.add_error(name, str(exc))
            return _render_step(request, line, current, form, refused=OFFER_REFUSED_MESSAGE)
        except InvalidLineError as exc:
            form = _rebound(current, line, posted)
            entries = _rebound_entries(current, line, posted)
            for name, field_messages in exc.field_errors.items():
                if entries is not None and name.startswith("contacts-"):
                    entries.show_remote_errors({name: field_messages})
                    continue
                form.add_error(name if name in form.fields else None, field_messages)
            return _render_step(request, line, current, form, entries=entries)
        except services.OrderError as exc:
            messages.error(request, str(exc))
            return _render_typed(request, line, current, posted)
        line = selectors.line_for(request.user, session_pk, line_pk)
    if not valid:
        return _render_typed(request, line, current, posted, invalid=True)
    if picked or request.POST.get(forms.MAKE_FIRST):
        messages.info(request, PICKED_MESSAGE)
        return redirect(
            reverse("orders:line_step", args=[session_pk, line_pk, current.slug]) + "#step-form"
        )
    if request.POST.get("add_entry"):
        url = reverse("orders:line_step", args=[session_pk, line_pk, current.slug])
        return redirect(f"{url}?add_entry=1#contact-entries")
    if "save_to_directory" in request.POST:
        return _save_to_directory(request, line, current)
    return _after_save(request, line, current)


PICKED_MESSAGE = gettext_lazy(
    "Filled in and saved as a draft: check the values, change any of them."
)


def _save_to_directory(
    request: AuthenticatedRequest, line: OrderLine, current: Step
) -> HttpResponse:
    """ "Save this customer to the directory": the customer, the site and the contacts of the
    line; a customer already there is offered instead of a copy."""
    url = reverse("orders:line_step", args=[line.session_id, line.pk, current.slug])
    raw = request.POST.get("save_to_directory", "")
    into = directory_selectors.customer(raw) if raw.isdigit() else None
    try:
        saved = directory_services.save_line_customer(user=request.user, line=line, into=into)
    except directory_services.DuplicateCustomer as exc:
        ids = ",".join(str(customer.pk) for customer in exc.existing)
        return redirect(f"{url}?duplicates={ids}#directory")
    except directory_services.DirectoryError as exc:
        messages.error(request, str(exc))
        return redirect(f"{url}#directory")
    messages.success(
        request,
        (
            _(
                "%(customer)s saved to the directory, with %(sites)s site(s) and "
                "%(contacts)s contact(s)."
            )
            if saved.created
            else _(
                "Added to %(customer)s in the directory: %(sites)s site(s), "
                "%(contacts)s contact(s)."
            )
        )
        % {
            "customer": saved.customer.name,
            "sites": len(saved.sites),
            "contacts": len(saved.contacts),
        },
    )
    return redirect(f"{url}#directory")


def _after_save(request: AuthenticatedRequest, line: OrderLine, current: Step) -> HttpResponse:
    session_pk, line_pk = line.session_id, line.pk
    goto = request.POST.get("goto", "")
    nav = request.POST.get("nav", "save")
    if goto in STEPS_BY_SLUG:
        return redirect("orders:line_step", session_pk, line_pk, goto)
    if nav == "next" and (following := next_step(current.slug)):
        return redirect("orders:line_step", session_pk, line_pk, following.slug)
    if nav == "back" and (preceding := previous_step(current.slug)):
        return redirect("orders:line_step", session_pk, line_pk, preceding.slug)
    if nav in ("close", "next"):
        messages.success(
            request, _("Line %(position)s saved as a draft.") % {"position": line.position}
        )
        return redirect("orders:session", session_pk)
    messages.success(
        request,
        _("Draft saved at %(time)s.") % {"time": time_format(timezone.localtime(), "H:i")},
        extra_tags="draft-saved",
    )
    return redirect("orders:line_step", session_pk, line_pk, current.slug)


def replace_line_offer(
    request: AuthenticatedRequest, session_pk: int, line_pk: int
) -> HttpResponse:
    """GET explains what replacing does and asks for the new offer; POST (after the user
    agreed) deletes the line at Covage and creates a copy with the new offer."""
    line = selectors.line_for(request.user, session_pk, line_pk)
    if response := _not_allowed(request, "GET", "HEAD", "POST"):
        return response
    locked = selectors.is_locked(line.session)
    if request.method == "POST":
        form = forms.ReplaceOfferForm(request.POST, line=line)
        if form.is_valid():
            try:
                new = replace_line(
                    user=request.user,
                    line=line,
                    offer_family=form.cleaned_data["offer_family"],
                    offer_technology=form.cleaned_data["offer_technology"],
                )
            except services.LockedError as exc:
                messages.error(request, str(exc))
                return redirect("orders:line", session_pk, line_pk)
            except services.OrderError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Line %(position)s now orders %(offer)s: the old line is being deleted "
                        "at Covage and this copy of it created. Check the eligibility values "
                        "for the new offer."
                    )
                    % {
                        "position": new.position,
                        "offer": offer_text(new.offer_family, new.offer_technology),
                    },
                )
                return redirect("orders:line_step", session_pk, new.pk, STEPS[0].slug)
    else:
        initial = {
            name: request.GET.get(name, getattr(line, name))
            for name in ("offer_family", "offer_technology")
        }
        form = forms.ReplaceOfferForm(line=line, initial=initial)
    context = {
        "session": line.session,
        "line": line,
        "form": form,
        "locked": locked,
        "customer": selectors.line_customer(line),
        "current_offer": offer_text(line.offer_family, line.offer_technology),
    }
    return render(request, "orders/line_replace.html", context)


def line_detail(request: AuthenticatedRequest, session_pk: int, line_pk: int) -> HttpResponse:
    """Everything about one line, read-only (the view of a locked session's lines)."""
    line = selectors.line_for(request.user, session_pk, line_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    context = {
        "session": line.session,
        "line": line,
        "summary": _summary(line),
        "locked": selectors.is_locked(line.session),
        "editable": not selectors.is_locked(line.session),
        "state_changes": list(line.state_changes.all()),
        "termination_errors": list(line.termination_errors.all()),
    }
    return render(request, "orders/line_detail.html", context)


def enni_options(request: AuthenticatedRequest, session_pk: int, line_pk: int) -> HttpResponse:
    """The ENNI selects for the delivery mode being chosen (htmx, on the technical step)."""
    line = selectors.line_for(request.user, session_pk, line_pk)
    if response := _not_allowed(request, "GET", "HEAD"):
        return response
    initial = {name: request.GET.get(name, "") for name in ("delivery_mode", "enni", "enni_2")}
    form = forms.TechnicalForm(line=line, initial=initial)
    return render(request, "orders/partials/enni_fields.html", {"form": form})
