"""What the exports app tells the rest of the portal, without depending on it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once an export's CSV is stored, with ``job`` (the ExportJob). The CSV is Covage's
# documented record of every session and line: the portal settles and reconciles from it.
export_stored = Signal()

# Sent when an export ends without a file, with ``job``: whoever waited on it asks again.
export_failed = Signal()
