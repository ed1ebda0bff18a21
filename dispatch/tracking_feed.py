"""One socket's outgoing frames: bounded, filtered, and able to ask for a fresh snapshot.

Frames are queued as the text that came from Redis (serialised once, shared by every socket of
the process). A socket that does not keep up is cut off when its queue is full rather than
letting the process's memory grow; the socket handler then closes it (1013).

Per socket, frames with a `seq` not above the last one applied are dropped (a frame can arrive
both in the snapshot and live), and position frames outside the privacy window are dropped even
if one was in flight when the order was delivered.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from dispatch.tracking import POSITION_VISIBLE

MAX_QUEUED = 64
VISIBLE_STATUSES = frozenset({*(s.value for s in POSITION_VISIBLE), "arriving"})


class SlowConsumer(Exception):
    """The socket's queue overflowed; it must be closed."""


class Resync:
    """Sentinel: the subscription was re-established, send a new snapshot."""


RESYNC = Resync()


class Feed:
    def __init__(self, *, max_queued: int = MAX_QUEUED) -> None:
        self._queue: deque[str] = deque()
        self._max = max_queued
        self._ready = asyncio.Event()
        self._resync = False
        self.overflowed = False
        # Set (and called) on overflow, so the handler can cut off a socket whose send is stuck.
        self.cut_off = asyncio.Event()
        self.on_cut_off: Callable[[], None] | None = None
        self.seq = 0
        self.window_open = False

    def apply_snapshot(self, snapshot: dict[str, Any]) -> None:
        self.seq = max(self.seq, int(snapshot["seq"]))
        self.window_open = snapshot["status"] in VISIBLE_STATUSES

    def push(self, frame: dict[str, Any], text: str) -> None:
        """Called by the room for every frame of the order (never blocks)."""
        seq = frame.get("seq")
        if isinstance(seq, int):
            if seq <= self.seq:
                return
            self.seq = seq
        kind = frame.get("type")
        if kind == "status":
            self.window_open = frame.get("status") in VISIBLE_STATUSES
        elif kind == "position" and not self.window_open:
            return
        self.push_text(text)

    def push_text(self, text: str) -> None:
        if self.overflowed:
            return
        if len(self._queue) >= self._max:
            self.overflowed = True
            self._queue.clear()  # release the memory now; the socket is going away
            self.cut_off.set()
            if self.on_cut_off is not None:
                self.on_cut_off()
        else:
            self._queue.append(text)
        self._ready.set()

    def request_resync(self) -> None:
        self._resync = True
        self._ready.set()

    async def next(self) -> str | Resync:
        while True:
            if self.overflowed:
                raise SlowConsumer
            if self._resync:
                self._resync = False
                self._queue.clear()  # the snapshot supersedes whatever was waiting
                return RESYNC
            if self._queue:
                return self._queue.popleft()
            self._ready.clear()
            await self._ready.wait()
