"""Locust scenario of the load test (issue "Speed under load", item 3): salespeople at work.

Run by tests/perf/test_load_bench.py (`make bench`) against gunicorn started as the Procfile
does; it can also be pointed at any running portal by hand:

    LOAD_USERS=alice,bob LOAD_PASSWORD=... locust -f tests/perf/locustfile.py \
        --headless -u 20 -r 10 -t 60s --host http://127.0.0.1:8000

Each simulated salesperson logs in once (GET /login/ for the CSRF cookie, then the form), then
with weights like a working day: lists its sessions, opens one, saves a step of a line (the
step's form, posted back with the values it shows and one text changed, then the page the
redirect leads to), runs the check, and polls a session's lines the way htmx does.

Environment:
- LOAD_USERS_FILE: JSON {"password": ..., "users": [{"username": ..., "sessions":
  [{"pk": 1, "lines": [10, 11]}, ...]}, ...]}. Without "sessions", a user finds its own
  from the sessions list and the session pages. Or LOAD_USERS (comma-separated names) and
  LOAD_PASSWORD. Each simulated user takes the next account (they wrap around when there are
  more simulated users than accounts: then two may edit the same line).
- LOAD_THINK_TIME: "1-5" (default: 1 to 5 s between actions) or "0" (saturation).
- LOAD_TASKS: "day" (default, the whole scenario), "sessions_list" (the sessions list alone,
  after the login) or "healthz" (/healthz/ alone, no login).
- LOAD_MEASURE_SECONDS: stop that many seconds after the warm-up (below); else -t decides.
- LOAD_WARMUP_FILE: where to write the warm-up's statistics (JSON), the logins' among them.
- LOAD_RESENT_FILE: where to write, at the end, how many requests were resent (below).

Like a browser, a request whose connection is closed or reset before any answer comes back
(mostly a kept-alive connection that the server closed meanwhile: gunicorn closes idle ones
after 2 s, and a user thinks 1 to 5 s) is sent once more, on a new connection. Those resends
are counted apart (LOAD_RESENT_FILE and the log), not as errors; a second failure is an
error. A resent step save that the server had in fact saved would come back as a version
conflict, itself an error: nothing is hidden.

Warm-up: every user logs in, then waits until all have (all log in within the first seconds,
which no real morning does, and password hashing is slow on purpose). Then the logins'
statistics are logged and written to LOAD_WARMUP_FILE, the statistics reset, and the users
start working, each after a random part of its thinking time (not all in the same second), so
that the figures describe the working pages alone, with no request straddling the two.

Every request has a stable name (the page, not its ids). A failure is any 4xx/5xx, a redirect
to the login page, or a step save that does not redirect (the form came back: not saved).
Not collected by pytest (its name does not match test_*.py); it imports nothing of Django.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import os
import random
import re
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.event
from locust import HttpUser, between, constant, events
from locust.env import Environment
from locust.exception import StopUser
from urllib3.util.retry import Retry

LOGIN_URL = "/login/"
STEPS = ("offer", "technical", "customer", "address", "review")
# The text a salesperson types on a step (the others are posted back as shown, like a click
# on "Save draft" after reading them).
TYPED_FIELDS = {
    "customer": "customer_order_name",
    "address": "access_instructions",
    "review": "note",
}
HTMX_HEADERS = {"HX-Request": "true"}

SESSION_LINK = re.compile(r'href="/orders/(\d+)/"')
LINE_LINK = re.compile(r'href="/orders/(\d+)/lines/(\d+)/[a-z]+/')


# --- Configuration -----------------------------------------------------------------------------


def _accounts() -> tuple[list[dict[str, Any]], str]:
    path = os.environ.get("LOAD_USERS_FILE", "")
    if path:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return list(data["users"]), str(data.get("password") or os.environ["LOAD_PASSWORD"])
    names = [name.strip() for name in os.environ.get("LOAD_USERS", "").split(",")]
    users = [{"username": name} for name in names if name]
    return users, os.environ.get("LOAD_PASSWORD", "")


def _think_time() -> tuple[float, float]:
    raw = os.environ.get("LOAD_THINK_TIME", "1-5").strip() or "0"
    low, _, high = raw.partition("-")
    return float(low), float(high or low)


THINK_TIME = _think_time()


ACCOUNTS, PASSWORD = _accounts()
MODE = os.environ.get("LOAD_TASKS", "day").strip() or "day"
# Modes whose users stay anonymous: the trivial pages the sessions list is compared with.
ANONYMOUS_MODES = ("healthz", "login_page")
if MODE not in ("day", "sessions_list", *ANONYMOUS_MODES):
    raise SystemExit(f"LOAD_TASKS={MODE!r}: expected day, sessions_list, login_page or healthz")
if MODE not in ANONYMOUS_MODES and not ACCOUNTS:
    raise SystemExit("no accounts: set LOAD_USERS_FILE, or LOAD_USERS and LOAD_PASSWORD")
MEASURE_SECONDS = float(os.environ.get("LOAD_MEASURE_SECONDS", "0") or 0)
WARMUP_FILE = os.environ.get("LOAD_WARMUP_FILE", "")
RESENT_FILE = os.environ.get("LOAD_RESENT_FILE", "")
# Requests resent after a connection closed without an answer, per page (measured part only).
RESENT: collections.Counter[str] = collections.Counter()
# One resend, whatever the method, only when nothing came back (no status is retried).
RESEND_ONCE = Retry(
    total=1,
    connect=1,
    read=1,
    status=0,
    other=0,
    redirect=False,
    allowed_methods=None,
    backoff_factor=0,
    raise_on_status=False,
    respect_retry_after_header=False,
)
_next_account = itertools.count()
logger = logging.getLogger("load")


# --- Warm-up -------------------------------------------------------------------------------------


class WarmUp:
    """Counts the users ready to work (logged in, or refused); when all are, saves the
    statistics so far, resets them and, with LOAD_MEASURE_SECONDS, schedules the end."""

    def __init__(self) -> None:
        self.ready = 0
        self.started = time.time()
        self.over = gevent.event.Event()

    def user_ready(self, environment: Environment) -> None:
        self.ready += 1
        runner = environment.runner
        if self.over.is_set() or runner is None or self.ready < runner.target_user_count:
            return
        stats = environment.stats
        pages = {
            entry.name: {
                "method": entry.method,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.5),
                "p95": entry.get_response_time_percentile(0.95),
                "p99": entry.get_response_time_percentile(0.99),
                "max": entry.max_response_time,
            }
            for entry in stats.entries.values()
            if entry.num_requests
        }
        summary = {
            "users": self.ready,
            "seconds": round(time.time() - self.started, 3),
            "ended_at": time.time(),
            "pages": pages,
            "errors": [error.to_dict() for error in stats.errors.values()],
        }
        logger.warning("warm-up over, statistics reset: %s", json.dumps(summary))
        if WARMUP_FILE:
            with open(WARMUP_FILE, "w", encoding="utf-8") as handle:
                json.dump(summary, handle, indent=1)
        stats.reset_all()
        RESENT.clear()
        self.over.set()
        if MEASURE_SECONDS:
            gevent.spawn_later(MEASURE_SECONDS, runner.quit)


WARM_UP = WarmUp()


@events.test_start.add_listener
def _test_start(environment: Environment, **_kwargs: Any) -> None:
    WARM_UP.started = time.time()


@events.test_stop.add_listener
def _test_stop(environment: Environment, **_kwargs: Any) -> None:
    logger.warning("requests resent after a closed connection: %s", json.dumps(RESENT))
    if RESENT_FILE:
        with open(RESENT_FILE, "w", encoding="utf-8") as handle:
            json.dump(dict(RESENT), handle)


def _count_resend(response: Any, name: str) -> None:
    retries = getattr(getattr(response, "raw", None), "retries", None)
    if retries is not None and retries.history:
        RESENT[name] += len(retries.history)


# --- HTML forms ----------------------------------------------------------------------------------


class FormFields(HTMLParser):
    """The fields a browser would submit from one form (the one with `form_id`, else the first
    with a `version` field, else the first), as (name, value) pairs in page order.

    Text-like inputs and hidden ones send their value; checkboxes and radios only when
    checked; a select its selected options (a single select without one: its first option);
    a textarea its text. Disabled fields, buttons and file inputs are left out.
    """

    def __init__(self, form_id: str = "") -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: dict[str, Any] | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: (value if value is not None else "") for name, value in attrs}
        if tag == "form":
            self._form = {"id": attr.get("id", ""), "action": attr.get("action", ""), "fields": []}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attr.get("name", "")
        disabled = "disabled" in attr
        if tag == "input" and name and not disabled:
            kind = attr.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self._form["fields"].append((name, attr.get("value", "on")))
                return
            self._form["fields"].append((name, attr.get("value", "")))
        elif tag == "select" and name:
            self._select = {
                "name": name,
                "multiple": "multiple" in attr,
                "disabled": disabled,
                "options": [],
            }
        elif tag == "option" and self._select is not None:
            self._option = {"value": attr.get("value"), "text": "", "selected": "selected" in attr}
            self._select["options"].append(self._option)
        elif tag == "textarea" and name:
            self._textarea = {"name": name, "text": "", "disabled": disabled}

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        elif self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            select, self._select = self._select, None
            if select["disabled"]:
                return
            options = select["options"]
            chosen = [option for option in options if option["selected"]]
            if not chosen and options and not select["multiple"]:
                chosen = options[:1]
            for option in chosen:
                value = option["value"] if option["value"] is not None else option["text"].strip()
                self._form["fields"].append((select["name"], value))
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            area, self._textarea = self._textarea, None
            if not area["disabled"]:
                # Browsers drop the one newline that follows <textarea>.
                text = area["text"][1:] if area["text"].startswith("\n") else area["text"]
                self._form["fields"].append((area["name"], text))
        elif tag == "form":
            self._form = None

    def fields(self) -> list[tuple[str, str]]:
        for form in self.forms:
            if self.form_id and form["id"] == self.form_id:
                return list(form["fields"])
        for form in self.forms:
            if any(name == "version" for name, _ in form["fields"]):
                return list(form["fields"])
        return list(self.forms[0]["fields"]) if self.forms else []


def form_fields(html: str, form_id: str = "") -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    parser.close()
    return parser.fields()


def _to_login(response: Any) -> bool:
    location = response.headers.get("Location", "")
    return bool(location) and urlsplit(location).path.startswith(LOGIN_URL)


# --- The salesperson -----------------------------------------------------------------------------


class Salesperson(HttpUser):
    wait_time = between(*THINK_TIME) if THINK_TIME[1] else constant(0)

    def on_start(self) -> None:
        self.sessions: list[dict[str, Any]] = []
        self.username = "(anonymous)"
        for adapter in self.client.adapters.values():
            adapter.max_retries = RESEND_ONCE
        if MODE in ANONYMOUS_MODES:
            WARM_UP.user_ready(self.environment)
            self.start_working()
            return
        account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.username = account["username"]
        try:
            self.log_in(self.username, PASSWORD)
            if MODE == "day":
                self.sessions = [
                    {"pk": int(item["pk"]), "lines": [int(line) for line in item.get("lines", [])]}
                    for item in account.get("sessions", [])
                ]
                if not self.sessions:
                    self.discover_sessions()
        finally:
            WARM_UP.user_ready(self.environment)
        self.start_working()

    def start_working(self) -> None:
        """Wait for the others to log in, then for a random part of the thinking time."""
        WARM_UP.over.wait()
        if THINK_TIME[1]:
            gevent.sleep(random.uniform(0, THINK_TIME[1]))

    # --- helpers ---------------------------------------------------------------------------

    def page(self, url: str, name: str, **kwargs: Any) -> Any:
        """GET a page; fail on 4xx/5xx and on a redirect to the login page."""
        with self.client.get(
            url, name=name, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            _count_resend(response, name)
            if _to_login(response):
                response.failure(f"redirected to the login page ({self.username} lost its session)")
            elif response.status_code == 0:
                response.failure(f"no answer: {response.error!r}")
            elif response.status_code >= 400 or response.status_code < 200:
                response.failure(f"HTTP {response.status_code}")
            else:
                response.success()
            return response

    def log_in(self, username: str, password: str) -> None:
        response = self.page(LOGIN_URL, "login page")
        token = dict(form_fields(response.text)).get("csrfmiddlewaretoken", "")
        data = {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": token,
            "next": "",
        }
        with self.client.post(
            LOGIN_URL, data=data, name="login", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code in (301, 302, 303) and not _to_login(response):
                response.success()
                return
            response.failure(
                f"login of {username} refused: HTTP {response.status_code} "
                f"{response.headers.get('Location', '')}"
            )
        # Nothing else this user does would mean anything.
        raise StopUser()

    def discover_sessions(self) -> None:
        response = self.page("/orders/", "sessions list")
        pks = sorted({int(pk) for pk in SESSION_LINK.findall(response.text or "")})
        for pk in pks:
            detail = self.page(f"/orders/{pk}/", "session page")
            lines = sorted(
                {
                    int(line)
                    for session, line in LINE_LINK.findall(detail.text or "")
                    if int(session) == pk
                }
            )
            self.sessions.append({"pk": pk, "lines": lines})

    def pick_session(self) -> dict[str, Any] | None:
        return random.choice(self.sessions) if self.sessions else None

    # --- what a salesperson does -----------------------------------------------------------

    def sessions_list(self) -> None:
        self.page("/orders/", "sessions list")

    def session_page(self) -> None:
        if session := self.pick_session():
            self.page(f"/orders/{session['pk']}/", "session page")

    def save_step(self) -> None:
        session = self.pick_session()
        if not session or not session["lines"]:
            return
        line = random.choice(session["lines"])
        step = random.choice(STEPS)
        url = f"/orders/{session['pk']}/lines/{line}/{step}/"
        response = self.page(url, "step form")
        if response.status_code != 200:
            return
        fields = form_fields(response.text, "step-form")
        if not any(name == "version" for name, _ in fields):
            with self.client.post(url, name="step save", catch_response=True, data={}) as failed:
                failed.failure("the step form has no version field: not the step page?")
            return
        typed = TYPED_FIELDS.get(step)
        if typed:
            value = f"Load test {self.username} {random.randint(0, 10**6)}"
            fields = [(name, value if name == typed else old) for name, old in fields]
            if typed not in dict(fields):
                fields.append((typed, value))
        fields.append(("nav", "save"))
        with self.client.post(
            url, data=fields, name="step save", allow_redirects=False, catch_response=True
        ) as saved:
            _count_resend(saved, "step save")
            location = saved.headers.get("Location", "")
            if _to_login(saved):
                saved.failure("redirected to the login page")
            elif saved.status_code == 0:
                saved.failure(f"no answer: {saved.error!r}")
            elif saved.status_code == 200:
                saved.failure("not saved: the form came back (invalid values or a conflict)")
            elif saved.status_code not in (301, 302, 303):
                saved.failure(f"HTTP {saved.status_code}")
            elif urlsplit(location).path != url:
                saved.failure(f"redirected to {location}, not back to the step")
            else:
                saved.success()
        if saved.status_code in (301, 302, 303) and not _to_login(saved):
            # The browser follows the redirect: the step again, with "Draft saved".
            self.page(urlsplit(location).path, "step form")

    def run_check(self) -> None:
        if session := self.pick_session():
            self.page(f"/orders/{session['pk']}/check/", "check")

    def poll_lines(self) -> None:
        if session := self.pick_session():
            self.page(f"/orders/{session['pk']}/lines/", "lines poll (htmx)", headers=HTMX_HEADERS)

    def healthz(self) -> None:
        self.page("/healthz/", "healthz")

    def login_page(self) -> None:
        self.page("/login/", "login page")

    # Weights of a working day: mostly typing lines, the lines table polled while it syncs.
    if MODE == "day":
        tasks = {
            sessions_list: 3,
            session_page: 3,
            save_step: 6,
            run_check: 1,
            poll_lines: 4,
        }
    elif MODE == "sessions_list":
        tasks = [sessions_list]
    elif MODE == "login_page":
        tasks = [login_page]
    else:
        tasks = [healthz]
