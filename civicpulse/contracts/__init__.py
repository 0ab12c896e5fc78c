"""Registry of versioned event contracts: one marshmallow schema per (type, version).

Each producing service has its own module here; importing this package registers them all.
Consumers validate with `validate_payload` and tolerate added fields (unknown = INCLUDE).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError

from civicpulse.errors import ContractViolation, UnknownEventType, UnknownVersion

_REGISTRY: dict[tuple[str, int], type[Schema]] = {}


class Contract(Schema):
    """Base payload schema: added fields are tolerated and kept."""

    class Meta:
        unknown = INCLUDE


def register(type_: str, version: int = 1) -> Callable[[type[Schema]], type[Schema]]:
    def deco(schema: type[Schema]) -> type[Schema]:
        key = (type_, version)
        if key in _REGISTRY:
            raise ValueError(f"contract {type_} v{version} registered twice")
        _REGISTRY[key] = schema
        return schema

    return deco


def known_types() -> list[str]:
    return sorted({t for t, _ in _REGISTRY})


def latest_version(type_: str) -> int:
    versions = [v for t, v in _REGISTRY if t == type_]
    if not versions:
        raise UnknownEventType(f"no contract for event type {type_!r}")
    return max(versions)


def validate_payload(type_: str, version: int, payload: Any) -> dict[str, Any]:
    if not any(t == type_ for t, _ in _REGISTRY):
        raise UnknownEventType(f"no contract for event type {type_!r}")
    schema = _REGISTRY.get((type_, version))
    if schema is None:
        raise UnknownVersion(f"{type_} has no contract version {version}")
    if not isinstance(payload, dict):
        raise ContractViolation(f"{type_} v{version}: payload is not an object")
    try:
        return schema().load(payload)  # defaults applied, added fields kept (INCLUDE)
    except ValidationError as exc:
        raise ContractViolation(f"{type_} v{version}: {exc.messages}") from exc


from civicpulse.contracts import liaison, news, notify, review, sentiment  # noqa: E402,F401
