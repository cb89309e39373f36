"""gunicorn's settings for the Procfile's `web` line (and the load test, which starts that line).

One process runs Python on one core at a time (the GIL), and a page spends most of its time
in Python (rendering, the ORM): so one process per core, each with a few threads to cover the
waits on PostgreSQL and Redis. Four: each wait hands the GIL to another thread, and with 8 the
sessions list served about 10 % less at saturation than with 4, in four runs taken in turns
(tests/perf/test_load_bench.py; README "Growing beyond one machine"). WEB_CONCURRENCY and
WEB_THREADS override both (WEB_CONCURRENCY is gunicorn's own convention).
"""

import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
threads = int(os.environ.get("WEB_THREADS") or 4)
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
