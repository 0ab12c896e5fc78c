"""One way to configure a service: its settings, loaded once, handed to its entrypoints.

A service's configuration is its validated YAML (`services/<name>/config/*.yaml`, read with
`read_yaml`) combined with the environment variables declared in `civicpulse.settings`; the
service's `config/__init__.py` builds one frozen object from both in a `load()` function. The
service declares it once:

    class ReviewService:
        name = "review"
        config = Config(review_config.load)

        @handles("news.item.submitted")
        def on_item_submitted(self, event):
            handlers.open_case(self.platform.uow(), event, self.config)

`Config` loads it when the container sets up (an invalid file stops the service before it
consumes anything) and gives every worker that same object; a new container (a restart, a test)
loads it again, so changed files and variables take effect there. Timers read their interval
from it too (`civicpulse.timers.every`).

`read_yaml` parses and validates a file once per content: it is cached by path, size and
modification time, so every service reads its YAML the same way, cheaply, and an edited file is
read again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from nameko.extensions import DependencyProvider

from civicpulse.config_files import ConfigError, read_yaml

# the YAML side lives in civicpulse.config_files (no nameko: the services' config modules, which
# their use cases import, read it there); kept importable from here
__all__ = ["Config", "ConfigError", "of_container", "read_yaml"]


class Config(DependencyProvider):
    """The service's configuration object, loaded once per container by `load()`.

    Workers get the object itself (`self.config.workflows`); timers declared with
    `civicpulse.timers.every` take their interval from it."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self.load = load
        self._value: Any = None
        self._loaded = False
        self._lock = threading.Lock()

    def setup(self) -> None:
        self.value()  # fail fast: an invalid file stops the container here

    def value(self) -> Any:
        """The loaded configuration (loaded on first use: timers may ask before setup)."""
        with self._lock:
            if not self._loaded:
                self._value = self.load()
                self._loaded = True
            return self._value

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.value()


def of_container(container: Any) -> Any:
    """The configuration object of a running container (its `Config` provider's value)."""
    for dependency in container.dependencies:
        if isinstance(dependency, Config):
            return dependency.value()
    raise LookupError(f"{container.service_name} declares no civicpulse.config.Config")
