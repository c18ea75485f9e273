"""Tools importable by worker processes (run_many with another executor)."""

from __future__ import annotations

import threading

from toolkit import tool


@tool
def make_lock(name: str) -> object:
    """Make a lock (an object that cannot be pickled)."""
    return threading.Lock()
