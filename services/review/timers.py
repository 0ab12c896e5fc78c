"""A nameko timer whose interval comes from the container config (so tests and operators can
change how often the deadline sweep runs without touching code)."""

from __future__ import annotations

from nameko.timer import Timer

SWEEP_KEY = "REVIEW_OVERDUE_SWEEP_SECONDS"
DEFAULT_SWEEP_SECONDS = 15.0


class ConfiguredTimer(Timer):
    def __init__(self, config_key: str, default: float, **kwargs: object) -> None:
        self.config_key = config_key
        super().__init__(interval=default, **kwargs)

    def setup(self) -> None:
        value = self.container.config.get(self.config_key)
        if value not in (None, ""):
            self.interval = float(value)
        if self.interval <= 0:
            raise ValueError(f"{self.config_key} must be positive, not {self.interval}")


configured_timer = ConfiguredTimer.decorator
