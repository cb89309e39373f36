"""The file-system Celery broker of the embedded setup (no REDIS_URL), made safe for a worker.

Settings select it with CELERY_BROKER_TRANSPORT. It is kombu's filesystem transport with two
changes, both found by the real-worker fault tests (tests/workers) on this broker:

- Whole messages only. kombu creates a message file under its final name, then writes it: a
  worker listing the folder in between takes an empty or half-written file and dies with
  "Unrecoverable error: JSONDecodeError('Expecting value: line 1 column 1 (char 0)')"
  (celery/kombu#1551). Here each message is written to a hidden file of the same folder and
  renamed into place, which is atomic on POSIX.
- The worker's event loop. kombu's transport is not asynchronous, so Celery runs its prefork
  pool without the event loop: the children then share one job pipe behind one lock, and a
  child SIGKILLed while it holds that lock (any idle child waiting for a job does) freezes the
  whole pool, for good (celery/billiard#104). Declared asynchronous, the transport is polled
  from the worker's event loop on a timer, and Celery uses the pool it uses on Redis: a pipe
  per child, a killed child replaced, its task re-delivered (acks_late, reject on worker lost).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# Messages handed to the worker per poll at most (the prefetch limit usually stops it first).
MAX_PER_POLL = 100


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put `payload` onto `queue`: written aside, then renamed to the name kombu reads."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Starts with a dot: kombu's readers only take files named "<stamp>.<queue>.msg".
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "xb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
    implements = filesystem.Transport.implements.extend(asynchronous=True)
    # Seconds between two looks at the queue folder (kombu's default, 1 s, is a second of delay
    # on every retry and every chained task); the transport option polling_interval overrides.
    polling_interval = 0.1

    def register_with_event_loop(self, connection: Any, loop: Any) -> None:
        # No file descriptor tells when a message arrives: look every polling_interval.
        loop.call_repeatedly(self.polling_interval, self._deliver_ready, connection)

    def _deliver_ready(self, connection: Any) -> None:
        for _ in range(MAX_PER_POLL):
            try:
                # timeout=0: one message if one is waiting (and the prefetch limit allows it).
                self.drain_events(connection, timeout=0)
            except TimeoutError:  # socket.timeout, raised when nothing is waiting
                return
