"""Who may do what on the broker: one RabbitMQ user per service, collectors, the operator.

Each service's user may only do what that service does (RabbitMQ permissions are regular
expressions over the names of queues and exchanges, per vhost):

- configure (declare): its own exchanges `<svc>.events` and `<svc>.retry`, its own queues
  (nameko's `evt-<source>-<event type>--<svc>.<method>` and their `.retry` queues, `rpc-<svc>`,
  its RPC reply queues `rpc.reply-<svc>-<uuid>`), its dead-letter queue `civicpulse.dlq.<svc>`,
  and the shared exchanges it declares: `civicpulse.dlx`, `civicpulse.unrouted` (exchange and
  queue: the relay keeps events no queue is bound for there), `nameko-rpc` and the `<source>.events`
  exchanges it consumes from (nameko redeclares the source exchange of each handler);
- write (publish, or be the queue end of a binding): its own exchanges and queues, `civicpulse.dlx`
  and `nameko-rpc`, where topic permissions allow only the routing keys of the RPCs it calls and
  replies (uuids);
- read (consume, or be the exchange end of a binding): its own queues, the `<source>.events`
  exchanges it consumes, `<svc>.retry`, `civicpulse.dlx` and `nameko-rpc` (binding keys: its own
  `<svc>.*` and reply uuids).

Never the default exchange (`amq.default`): writing there reaches any queue by name. Liaison also
owns `civicpulse.partners` and the `partner.<code>` queues; sentiment owns `sentiment.mentions`
(a direct exchange and the work queue of the same name). A collector may only write to the
`sentiment.mentions` exchange. The operator `admin` (management UI, `civicpulse partners`,
`civicpulse dlq`) is no service's user.

`python -m civicpulse.broker_users` prints the users, permissions and topic permissions for
deploy/rabbitmq/definitions.json (a test checks that the file matches). Passwords are not in the
file: `deploy/rabbitmq/set-passwords.sh` sets them from the environment when the broker starts.
"""

from __future__ import annotations

import json
import re

# Which services' events each service consumes; tests/unit/test_broker_users.py checks this
# against the @handles entrypoints of each service class.
CONSUMES: dict[str, tuple[str, ...]] = {
    "news": ("liaison", "review"),
    "review": ("news",),
    "sentiment": (),
    "liaison": ("news", "review", "sentiment"),
    "notify": ("news", "review", "sentiment", "liaison"),
    "identity": (),
    "console": (),  # the web console consumes no events (its pages poll the service APIs)
}
# The RPC methods each service calls on another (topic permission on `nameko-rpc`).
CALLS: dict[str, tuple[str, ...]] = {
    "news": ("identity.authenticate",),
    "review": ("identity.authenticate", "identity.staff_directory"),
    "sentiment": ("identity.authenticate",),
    "liaison": ("identity.authenticate",),
    "notify": ("identity.authenticate", "identity.staff_directory"),
    "console": ("identity.authenticate", "identity.sign_in", "identity.revoke_session"),
}
# Besides its own: what it declares and writes, and what of that it reads (liaison binds the
# partner queues but must not consume them).
OWNS: dict[str, tuple[str, ...]] = {
    "sentiment": (r"sentiment\.mentions",),
    "liaison": (r"civicpulse\.partners", r"partner\.[a-z0-9_-]+"),
}
READS: dict[str, tuple[str, ...]] = {
    "sentiment": (r"sentiment\.mentions",),
    "liaison": (r"civicpulse\.partners",),
}
COLLECTOR_USER = "collector"
ADMIN_USER = "admin"
MENTIONS_EXCHANGE = "sentiment.mentions"
RPC_EXCHANGE = "nameko-rpc"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NOTHING = "^$"


def password_variable(user: str) -> str:
    """The environment variable that holds a broker user's password (compose, set-passwords)."""
    return f"RABBITMQ_{user.upper()}_PASSWORD"


def _any_of(names: list[str]) -> str:
    return "^(" + "|".join(names) + ")$"


def _own(svc: str) -> list[str]:
    s = re.escape(svc)
    return [rf"{s}\.events", rf"{s}\.retry", rf"evt-[a-z]+-[a-z0-9_.]+--{s}\.[a-z0-9_]+(\.retry)?",
            rf"rpc-{s}", rf"rpc\.reply-{s}-{UUID}", rf"civicpulse\.dlq\.{s}"]


def service_permissions(svc: str) -> dict[str, str]:
    sources = [rf"{re.escape(src)}\.events" for src in CONSUMES[svc]]
    # civicpulse.unrouted: the relay keeps an event the broker returned as unroutable there
    shared = [r"civicpulse\.dlx", r"civicpulse\.unrouted", re.escape(RPC_EXCHANGE)]
    owns = list(OWNS.get(svc, ()))
    return {"configure": _any_of(_own(svc) + owns + shared + sources),
            "write": _any_of(_own(svc) + owns + shared),
            "read": _any_of(_own(svc) + list(READS.get(svc, ())) + shared + sources)}


def service_topic_permissions(svc: str) -> dict[str, str]:
    """On `nameko-rpc`: publish only the calls it makes and replies; bind only its own keys."""
    calls = [re.escape(c) for c in CALLS.get(svc, ())]
    return {"exchange": RPC_EXCHANGE, "write": _any_of([*calls, UUID]),
            "read": _any_of([rf"{re.escape(svc)}\.\*", UUID])}


def collector_permissions() -> dict[str, str]:
    """A collector publishes mentions to the `sentiment.mentions` exchange and nothing else."""
    return {"configure": NOTHING, "write": f"^{re.escape(MENTIONS_EXCHANGE)}$", "read": NOTHING}


def definitions(services: tuple[str, ...] | None = None, vhost: str = "/") -> dict[str, list]:
    """`users`, `permissions`, `topic_permissions` in RabbitMQ's definitions format (no
    password: `password_hash` "" cannot log in until set-passwords.sh sets one)."""
    services = services or tuple(CONSUMES)
    users = [ADMIN_USER, *services, COLLECTOR_USER]
    perms = [{"user": ADMIN_USER, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}]
    perms += [{"user": s, "vhost": vhost, **service_permissions(s)} for s in services]
    perms.append({"user": COLLECTOR_USER, "vhost": vhost, **collector_permissions()})
    return {
        "users": [{"name": u, "password_hash": "",
                   "hashing_algorithm": "rabbit_password_hashing_sha256",
                   "tags": ["administrator"] if u == ADMIN_USER else [], "limits": {}}
                  for u in users],
        "permissions": perms,
        "topic_permissions": [{"user": s, "vhost": vhost, **service_topic_permissions(s)}
                              for s in services],
    }


if __name__ == "__main__":
    print(json.dumps(definitions(), indent=2, ensure_ascii=False))
