"""Benchmark (make bench): import 1,000 rows from a sheet into a session.

Prints one line: the seconds to read and check the preview (every row through the step forms
and the confirmation check), the seconds to create the lines locally (checked again, then
created through orders.services.drafts in one transaction, the session queued once), and the
peak memory growth (tracemalloc) over both, against the goals. Covage is not called: the
sync is queued after the commit and the test database is rolled back before that.
BULK_BENCH_ROWS sets the number of rows (default 1000).
"""

from __future__ import annotations

import csv
import io
import os
import time
import tracemalloc

import pytest
from factories import sales_user

from bulk import columns, services
from bulk.models import ImportBatch
from orders.models import OrderLine
from orders.services import create_session

pytestmark = pytest.mark.django_db

ROWS = int(os.environ.get("BULK_BENCH_ROWS", "1000"))
GOALS = {"preview": 10.0, "create": 20.0, "memory": 64.0}


def _sheet(rows: int) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(columns.headers())
    example = services.example_values()
    for number in range(rows):
        values = dict(
            example,
            end_customer_name=f"Boulangerie Ça Déménage n°{number}",
            customer_order_name=f"Commande {number}",
            street_number=str(number % 200 + 1),
            note="Livraison à l'accueil",
        )
        writer.writerow([values[name] for name in columns.COLUMNS])
    return buffer.getvalue().encode("utf-8")


def _mark(value: float, goal: float) -> str:
    return "PASS" if value < goal else "MISS"


def _import(content: bytes, external_id: str) -> tuple[float, float]:
    """(seconds to read and check the preview, seconds to create the lines)."""
    user = sales_user()
    session = create_session(user=user, external_id=external_id)
    started = time.perf_counter()
    batch = services.start_import(
        user=user, session=session, file_name="bench.csv", content=content
    )
    preview = time.perf_counter() - started
    assert batch.status == ImportBatch.Status.READY and batch.valid_rows == ROWS, batch.error
    started = time.perf_counter()
    result = services.import_rows(user=user, batch=batch, policy=ImportBatch.Policy.ALL_OR_NONE)
    create = time.perf_counter() - started
    assert len(result.created) == ROWS
    assert OrderLine.objects.filter(session=session).count() == ROWS
    return preview, create


def test_bulk_import_bench(settings):
    settings.BULK_IMPORT_BACKGROUND_KB = 10**6  # read in this process, timed
    content = _sheet(ROWS)
    # Timed without tracemalloc, which slows Python several times over; the memory is
    # measured on a second, identical import into another session.
    preview, create = _import(content, "BENCH-IMPORT-1")
    tracemalloc.start()
    baseline, _peak = tracemalloc.get_traced_memory()
    _import(content, "BENCH-IMPORT-2")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    memory = (peak - baseline) / (1024 * 1024)

    print(
        f"\nbulk import: {ROWS} rows, preview {preview:.2f} s (goal < {GOALS['preview']:.0f} s, "
        f"{_mark(preview, GOALS['preview'])}), create lines {create:.2f} s (goal < "
        f"{GOALS['create']:.0f} s, {_mark(create, GOALS['create'])}), peak memory growth "
        f"{memory:.1f} MB (goal < {GOALS['memory']:.0f} MB, {_mark(memory, GOALS['memory'])})"
    )
