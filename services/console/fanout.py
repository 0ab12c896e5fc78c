"""Several API reads of one page at the same time (green threads: the console runs under
eventlet, its HTTP client yields while it waits), so a page costs its slowest read, not their
sum. A read that fails gives its `ApiError` back in place of its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eventlet

from services.console.apis import ApiError


def gather(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each call at once; name → its answer, or the ApiError it raised."""
    def run(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ApiError as exc:
            return exc

    threads = {name: eventlet.spawn(run, fn) for name, fn in calls.items()}
    return {name: thread.wait() for name, thread in threads.items()}


def value(answer: Any) -> Any:
    """An answer of `gather`, raising the ApiError it holds."""
    if isinstance(answer, ApiError):
        raise answer
    return answer
