"""The health check: what a load balancer probes, and the trivial page the load test compares
the portal's pages with (tests/perf/test_load_bench.py).

It answers "ok" as plain text without a login and without touching the database, the cache or
Covage: it says that this process serves requests, nothing more. GET and HEAD only; anything
else is answered 405, not a CSRF refusal (nothing is read from a POST).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe


@login_not_required
@csrf_exempt
@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
