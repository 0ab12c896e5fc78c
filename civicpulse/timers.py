"""Timers declared one way: the interval comes from the service's configuration.

    class ReviewService:
        config = Config(review_config.load)

        @every("sweep_seconds")            # an attribute of the loaded config, in seconds
        def sweep_overdue(self): ...

The interval is read when the container sets up (never at import time), from the object the
service's `civicpulse.config.Config` loads; so a test or an operator changes it through the
same settings or YAML as everything else. `@every(lambda cfg: cfg.queue.interval)` computes it;
`@every(30)` is a fixed interval. A timer only
triggers the work: whatever must survive a restart (review's stage deadlines, liaison's
deadline rows) is a row in the database that the timer's use case claims.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.timer import Timer

from civicpulse.config import of_container

Interval = float | str | Callable[[Any], float]


class ConfiguredTimer(Timer):
    """nameko's Timer whose interval is a number, an attribute of the service's config or a
    function of it."""

    def __init__(self, interval: Interval, eager: bool = False, **kwargs: Any) -> None:
        self.interval_of = interval
        super().__init__(interval=0.0, eager=eager, **kwargs)

    def setup(self) -> None:
        spec = self.interval_of
        if isinstance(spec, str):
            value = getattr(of_container(self.container), spec)
        elif callable(spec):
            value = spec(of_container(self.container))
        else:
            value = spec
        if value is None or float(value) <= 0:
            raise ValueError(f"timer {self.method_name}: interval must be a positive number "
                             f"of seconds, not {value!r}")
        self.interval = float(value)
        super().setup()


def every(interval: Interval, eager: bool = False) -> Callable[[Any], Any]:
    """Decorate an entrypoint method: run it every `interval` seconds (see the module doc)."""
    return ConfiguredTimer.decorator(interval=interval, eager=eager)
