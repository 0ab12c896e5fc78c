"""Embedded single-process mode: all four services in one interpreter on kombu's memory://.

For a machine with no RabbitMQ: events, RPC and timers travel over kombu's in-memory transport
(process-global state), each service keeps its own SQLite file under var/. Partners cannot
subscribe in this mode: there is no broker for an outside client to connect to.

nameko's RPC responder reads `message.properties['content_type']`, which the memory transport
does not set (upstream nameko issue #753: KeyError 'content_type'); `patch_memory_rpc()` makes
it fall back to the message's own content type.

What holds here and what does not: kombu's memory channel drops the messages a consumer had not
acknowledged when its channel closes (`do_restore = False`); `patch_memory_transport()` turns
restoring on, so a consumer that gives a batch back by reconnecting (the sentiment batch
consumer on a transient database error) gets it again. The memory transport has no message TTL
or dead-lettering, so a retry is parked in this process instead (`civicpulse.consumers`). What
cannot hold: the messages live in this process's memory, so a crash or kill loses every one not
yet handled; `civicpulse run` says so when it starts this mode.
"""

from __future__ import annotations

from civicpulse.logs import quiet_dependencies

quiet_dependencies()  # before eventlet prints its deprecation notice

import eventlet  # noqa: E402

eventlet.monkey_patch()

import importlib  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from kombu.transport import memory  # noqa: E402
from nameko import rpc  # noqa: E402
from nameko.constants import DEFAULT_TRANSPORT_OPTIONS  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402

from civicpulse.observability import setup_logging  # noqa: E402
from civicpulse.settings import SERVICE_CLASSES, SERVICES, for_service  # noqa: E402

log = logging.getLogger("civicpulse.embedded")
MEMORY_URI = "memory://"


class _MemorySafeResponder(rpc.Responder):
    def send_response(self, result: Any, exc_info: Any) -> Any:
        props = self.message.properties
        if "content_type" not in props:
            props["content_type"] = self.message.content_type or "application/json"
        return super().send_response(result, exc_info)


def patch_memory_rpc() -> None:
    """Fix nameko RPC replies on transports that keep content_type off the properties; and
    make the memory transport redeliver what was not acknowledged (`patch_memory_transport`)."""
    rpc.Responder = _MemorySafeResponder  # type: ignore[misc]
    patch_memory_transport()


def patch_memory_transport() -> None:
    """A closing memory channel puts its unacknowledged messages back (as a broker would)."""
    memory.Channel.do_restore = True


def memory_config(service: str) -> dict[str, Any]:
    options = dict(DEFAULT_TRANSPORT_OPTIONS)
    options["polling_interval"] = 0.02
    return {
        "AMQP_URI": MEMORY_URI,
        "WEB_SERVER_ADDRESS": for_service(service).web_address,
        "TRANSPORT_OPTIONS": options,
        "max_workers": 10,
        "serializer": "json",
    }


def load_class(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def start(services: tuple[str, ...] = SERVICES) -> list[ServiceContainer]:
    patch_memory_rpc()
    containers = []
    for name in services:
        container = ServiceContainer(load_class(SERVICE_CLASSES[name]), memory_config(name))
        container.start()
        containers.append(container)
        log.info("started %s on %s", name, for_service(name).web_address)
    return containers


def stop(containers: list[ServiceContainer]) -> None:
    for container in reversed(containers):
        container.stop()


def main() -> None:
    setup_logging()
    containers = start()
    done = eventlet.event.Event()

    def _stop(*_: Any) -> None:
        if not done.ready():
            done.send(None)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("embedded: all services running in one process on memory:// "
          "(Ctrl-C stops)", flush=True)
    done.wait()
    stop(containers)
    print("embedded: stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
