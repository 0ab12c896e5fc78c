"""Group commit of send outcomes: many senders, one transaction per round.

Each sender records the outcome of the message it just sent and WAITS until that outcome is
committed before it sends its next one — exactly as when every sender committed its own
outcome, so a process killed mid-way still repeats at most the one message each sender had in
flight. What changes is who commits: the first sender to arrive commits every outcome that is
waiting (its own and those that arrived meanwhile) in one transaction, then wakes the others;
outcomes arriving during that commit go into the next one. Sixteen senders thus share one
database round trip per round instead of making sixteen: sending, not recording, sets the pace.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork


@dataclass
class _Waiting:
    row: dict[str, Any]
    failure: Any
    now: datetime
    done: bool = False
    error: BaseException | None = field(default=None)


Write = Callable[[UnitOfWork, list[tuple[dict[str, Any], Any, datetime]]], None]


class GroupCommit:
    """`record(row, failure, now)` returns once the outcome is committed (or raises what the
    commit raised). `write(uow, outcomes)` records a round's outcomes in `uow`'s transaction."""

    def __init__(self, uows: Callable[[], UnitOfWork], write: Write) -> None:
        self._uows = uows
        self._write = write
        self._cond = threading.Condition()
        self._queue: list[_Waiting] = []
        self._committing = False
        self.rounds = 0  # commits made (for tests and the benchmark's notes)

    def record(self, row: dict[str, Any], failure: Any, now: datetime) -> None:
        mine = _Waiting(row, failure, now)
        with self._cond:
            self._queue.append(mine)
            while not mine.done:
                if self._committing:
                    self._cond.wait()
                    continue
                self._committing = True
                batch, self._queue = self._queue, []
                self._cond.release()
                try:
                    error = self._commit(batch)
                finally:
                    self._cond.acquire()
                    self._committing = False
                for waiting in batch:
                    waiting.done, waiting.error = True, error
                self._cond.notify_all()
        if mine.error is not None:
            raise mine.error

    def _commit(self, batch: list[_Waiting]) -> BaseException | None:
        try:
            with self._uows() as uow:
                self._write(uow, [(w.row, w.failure, w.now) for w in batch])
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - every sender of the round learns it
            return exc
        self.rounds += 1
        return None
