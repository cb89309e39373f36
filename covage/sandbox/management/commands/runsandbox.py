"""`manage.py runsandbox [ADDR:PORT]`: serve the simulated Covage API with gunicorn.

gthread workers: a request sleeping in a simulated timeout holds one thread, not the process.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from covage.sandbox.knobs import knob_float


def _gunicorn_has_control_socket() -> bool:
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return False
    return any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS)


class Command(BaseCommand):
    help = "Serve the Covage sandbox (simulated API) with gunicorn (gthread workers)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "addrport",
            nargs="?",
            default=getattr(settings, "SANDBOX_ADDR", "127.0.0.1:8001"),
            help="ADDR:PORT or PORT to listen on (default: 127.0.0.1:8001).",
        )
        parser.add_argument("--workers", type=int, default=1, help="Worker processes.")
        parser.add_argument("--threads", type=int, default=8, help="Threads per worker.")
        parser.add_argument(
            "--access-log", action="store_true", help="Log every request to stdout."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        addrport: str = options["addrport"]
        if ":" not in addrport:
            addrport = f"127.0.0.1:{addrport}"
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        # Above the longest simulated timeout, so gunicorn never kills a deliberate sleep.
        worker_timeout = int(max(60.0, knob_float("TIMEOUT_SECONDS") + 30))
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "covage.sandbox.wsgi:application",
            "--bind",
            addrport,
            "--worker-class",
            "gthread",
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--timeout",
            str(worker_timeout),
            "--chdir",
            str(settings.BASE_DIR),
        ]
        if _gunicorn_has_control_socket():
            # One shared default socket path: the portal's own gunicorn would clash with ours.
            argv.append("--no-control-socket")
        if options["access_log"]:
            argv += ["--access-logfile", "-"]
        os.environ["PORTAL_URLCONF"] = "covage.sandbox.urls"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        self.stdout.write(
            f"Covage sandbox listening on http://{addrport} "
            f"(gunicorn gthread, {options['workers']} worker(s) x {options['threads']} threads)"
        )
        self.stdout.flush()
        sys.stdout.flush()
        os.execvp(sys.executable, argv)  # noqa: S606 - replaces this process by gunicorn
