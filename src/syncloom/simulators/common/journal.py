"""RequestJournal: what a simulator was asked, in which order, and how many at once.

A test of concurrency needs the server's view, not the client's: how many requests were
in flight together at the peak, and whether one request had finished before another began
(a parent written before its children). Every vendor request gets a start and a finish
sequence number from one counter, so "A finished before B started" is a comparison of two
integers, free of clock resolution.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass
class JournalEntry:
    """One request: its method and path, and when it started and finished in sequence."""

    method: str
    path: str
    started: int
    finished: int | None = None
    status: int | None = None

    def public(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "started": self.started,
            "finished": self.finished,
            "status": self.status,
        }


class RequestJournal:
    """The last ``size`` requests and the peak number in flight; thread-safe."""

    def __init__(self, size: int = 5000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0

    def begin(self, method: str, path: str) -> JournalEntry:
        """Note a request arriving; returns its entry, to pass to :meth:`end`."""
        with self._lock:
            entry = JournalEntry(method, path, next(self._sequence))
            self._entries.append(entry)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return entry

    def end(self, entry: JournalEntry, status: int | None) -> None:
        """Note a request's answer sent (or its connection dropped)."""
        with self._lock:
            entry.finished = next(self._sequence)
            entry.status = status
            self.in_flight -= 1

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry.public() for entry in self._entries]

    def clear(self) -> None:
        """Forget the entries and restart the peak from the requests in flight now."""
        with self._lock:
            self._entries.clear()
            self.peak_in_flight = self.in_flight
