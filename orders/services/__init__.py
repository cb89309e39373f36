"""The only code that changes orders or calls Covage about them.

drafts   what people do: sessions and lines saved as drafts, queued for Covage
sync     pushing drafts to Covage and writing back its answers (tasks call it)
confirm  confirming a session exactly once and following it to its final state
tracking following created orders' production (order-tracking API)
sweeper  finding stalled work for the periodic sweeper
lookups  the undocumented reads of a session, and waiting for an export when they fail
settle   settling outcomes and applying states from Covage's CSV export
attention sessions whose automatic work stopped past its bound, and resolving them
replace  replacing a line Covage has by one with another offer (PATCH cannot change it)
referentials reading Covage's projects and ENNIs into the store the forms read (a task)
resync   the back office's fixes of reconciliation differences (push again, recreate, link)
remote   Covage's errors in the portal's terms: callers above the services catch RemoteError
events   writing a session's history (orders.events says how it is read)
"""

from orders.services.confirm import (
    ConfirmStep,
    PollResult,
    copy_rejected_lines,
    poll_session,
    request_confirmation,
    run_confirmation,
)
from orders.services.drafts import (
    add_line,
    create_session,
    delete_line,
    duplicate_line,
    request_sync,
    save_line_step,
)
from orders.services.errors import (
    LockedError,
    OrderError,
    RemoteError,
    RemoteRefused,
    RemoteUnavailable,
    StaleLineError,
)
from orders.services.sync import SyncResult, sync_session
from orders.services.tracking import track_line, track_orders

__all__ = [
    "ConfirmStep",
    "LockedError",
    "OrderError",
    "PollResult",
    "RemoteError",
    "RemoteRefused",
    "RemoteUnavailable",
    "StaleLineError",
    "SyncResult",
    "add_line",
    "copy_rejected_lines",
    "create_session",
    "delete_line",
    "duplicate_line",
    "poll_session",
    "request_confirmation",
    "request_sync",
    "run_confirmation",
    "save_line_step",
    "sync_session",
    "track_line",
    "track_orders",
]
