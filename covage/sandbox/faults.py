"""Injected faults for `/api/` calls (after authentication).

All three rolls are drawn on every call, in a fixed order, from one `random.Random` seeded with
SEED when set: a seeded run replays the same faults for the same sequence of calls. A rate-limit
or server-error fault answers before the view runs, so nothing is written (the export window is
not consumed); a timeout fault lets the view do its work and only delays the answer.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from django.http import HttpResponse

from covage.sandbox.http import detail
from covage.sandbox.knobs import knob, knob_float

_lock = threading.Lock()
_rng: random.Random | None = None
_rng_seed: str | None = None

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def reset_rng() -> None:
    """Forget the generator: the next draw reseeds from SEED (tests replay a sequence)."""
    global _rng, _rng_seed
    with _lock:
        _rng = None
        _rng_seed = None


def draw() -> float:
    global _rng, _rng_seed
    seed = str(knob("SEED") or "")
    with _lock:
        if _rng is None or seed != _rng_seed:
            _rng = random.Random(seed) if seed else random.Random()
            _rng_seed = seed
        return _rng.random()


@dataclass(frozen=True)
class Faults:
    rate_limited: bool
    server_error: int | None
    timeout: bool


def roll() -> Faults:
    rate_limit_roll, error_roll, status_roll, timeout_roll = draw(), draw(), draw(), draw()
    return Faults(
        rate_limited=rate_limit_roll < knob_float("RATE_LIMIT_RATE"),
        server_error=(503 if status_roll < 0.5 else 502)
        if error_roll < knob_float("ERROR_RATE")
        else None,
        timeout=timeout_roll < knob_float("TIMEOUT_RATE"),
    )


def sleep_latency() -> None:
    latency_ms = knob_float("LATENCY_MS")
    if latency_ms > 0:
        time.sleep(latency_ms / 1000)


def sleep_timeout() -> None:
    seconds = knob_float("TIMEOUT_SECONDS")
    if seconds > 0:
        time.sleep(seconds)


def rate_limited_response() -> HttpResponse:
    retry_after = max(0, int(knob("RATE_LIMIT_RETRY_AFTER")))
    return detail(
        f"Request was throttled. Expected available in {retry_after} seconds.",
        429,
        Retry_After=str(retry_after),
    )


def server_error_response(status: int) -> HttpResponse:
    # A gateway in front of the API answers 502 in HTML; the API itself answers 503 in JSON.
    if status == 502:
        return HttpResponse(BAD_GATEWAY_HTML, status=502, content_type="text/html")
    return detail("Service temporarily unavailable, try again later.", 503)
