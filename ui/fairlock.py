"""A re-entrant lock that serves threads in arrival order, and lets a long holder step aside.

Python's locks are not fair: a thread that releases and at once re-acquires usually wins again,
so readers waiting behind an ingesting upload would wait for the whole ingestion. `FairLock`
queues waiters first come, first served, and `handoff()` lets every thread waiting at that
moment, and for a time budget every thread that arrives, take its turn before the holder
continues (an ingestion calls it between batches, with a budget equal to the batch's own time,
so that readers and the writer share the lock about evenly while both want it).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class FairLock:
    """Re-entrant, FIFO; use as a context manager."""

    GRACE = 0.05
    """Seconds a handing-off holder waits, with the lock free, for another request to come."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._queue: deque[int] = deque()
        self._arrivals = 0

    def _wait_turn(self, me: int, deadline: float | None = None) -> bool:
        self._queue.append(me)
        self._arrivals += 1
        self._cond.notify_all()
        while self._owner is not None or self._queue[0] != me:
            if deadline is None:
                self._cond.wait()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:  # give up our place; the next in line may now be first
                self._queue.remove(me)
                self._cond.notify_all()
                return False
            self._cond.wait(remaining)
        self._queue.popleft()
        self._owner = me
        return True

    def acquire(self, timeout: float | None = None) -> bool:
        """Block until every thread that asked earlier has had the lock; with a `timeout` (seconds),
        give up after it and return False."""
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return True
            deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
            if not self._wait_turn(me, deadline):
                return False
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

    def handoff(self, budget: float = 0.0) -> int:
        """Let the threads waiting now go first, then take the lock back at the same depth.

        For up to `budget` seconds, threads that arrive meanwhile go first too (readers keep the
        lock while they keep coming); after that the holder queues behind those already waiting.
        Returns how many threads were waiting at the call. The caller must hold the lock.
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
            deadline = time.monotonic() + budget
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if self._owner is None and not self._queue:
                    # free: wait a moment for a reader's next request before taking it back
                    arrivals = self._arrivals
                    self._cond.wait(min(remaining, self.GRACE))
                    if self._arrivals == arrivals and self._owner is None and not self._queue:
                        break
                else:
                    self._cond.wait(remaining)
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
