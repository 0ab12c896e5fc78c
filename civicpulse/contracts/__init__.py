"""Registry of versioned event contracts: one marshmallow schema per (type, version).

Each producing service has its own module here; importing this package registers them all.
Consumers validate with `validate_payload` and tolerate added fields (unknown = INCLUDE).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from marshmallow import INCLUDE, Schema, ValidationError

from civicpulse.errors import ContractViolation, UnknownEventType, UnknownVersion

_REGISTRY: dict[tuple[str, int], type[Schema]] = {}


class Contract(Schema):
    """Base payload schema: added fields are tolerated and kept.

    `partner_tlp`: the TLP levels at which this event may be shared with partner agencies
    (empty: never shared). The partner catalogue (AsyncAPI) is generated from it, and liaison
    refuses to share an event whose contract does not declare its TLP here."""

    partner_tlp: ClassVar[tuple[str, ...]] = ()

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


def contract(type_: str, version: int) -> type[Schema] | None:
    return _REGISTRY.get((type_, version))


def partner_visible() -> list[tuple[str, int, type[Schema]]]:
    """Every (type, version, schema) a partner agency may receive, sorted."""
    return sorted(((t, v, s) for (t, v), s in _REGISTRY.items()
                   if getattr(s, "partner_tlp", ())), key=lambda x: (x[0], x[1]))


def shareable(type_: str, version: int, tlp: str) -> bool:
    """May an event of this contract and TLP go to a partner agency (declared `partner_tlp`)?"""
    return tlp in getattr(_REGISTRY.get((type_, version)), "partner_tlp", ())


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
