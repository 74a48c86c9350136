"""A re-entrant lock that serves threads in arrival order, and lets a long holder step aside.

Python's locks are not fair: a thread that releases and at once re-acquires usually wins again,
so readers waiting behind an ingesting upload would wait for the whole ingestion. `FairLock`
queues waiters first come, first served, and `handoff()` lets every thread waiting at that
moment take its turn before the holder continues (an ingestion calls it between batches).
"""

from __future__ import annotations

import threading
from collections import deque


class FairLock:
    """Re-entrant, FIFO; use as a context manager."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._queue: deque[int] = deque()

    def _wait_turn(self, me: int) -> None:
        self._queue.append(me)
        while self._owner is not None or self._queue[0] != me:
            self._cond.wait()
        self._queue.popleft()
        self._owner = me

    def acquire(self) -> bool:
        """Block until every thread that asked earlier has had the lock."""
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return True
            self._wait_turn(me)
            self._depth = 1
            return True

    def release(self) -> None:
        """Give the lock up (once per acquire); the longest waiter gets it next."""
        with self._cond:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a FairLock this thread does not hold")
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    def handoff(self) -> int:
        """Let the threads waiting now go first, then take the lock back at the same depth.

        Returns how many threads were waiting. The caller must hold the lock.
        """
        me = threading.get_ident()
        with self._cond:
            if self._owner != me:
                raise RuntimeError("handoff of a FairLock this thread does not hold")
            waiting = len(self._queue)
            if not waiting:
                return 0
            depth, self._owner, self._depth = self._depth, None, 0
            self._cond.notify_all()
            self._wait_turn(me)
            self._depth = depth
            return waiting

    def waiting(self) -> int:
        """Threads queued for the lock right now."""
        with self._cond:
            return len(self._queue)

    def __enter__(self) -> "FairLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
