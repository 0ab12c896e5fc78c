"""The events liaison shared with a partner, as lines a person reads: the event's name in
Chinese, its TLP, when, and the payload fields a partner may see (messages.EVENT_FIELDS), never
the raw JSON. Pure."""

from __future__ import annotations

from typing import Any

from services.console import messages


def shown(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        payload = e.get("payload") or {}
        fields = [(name, _text(key, payload[key]))
                  for key, name in messages.EVENT_FIELDS.items()
                  if payload.get(key) not in (None, "", [])]
        out.append({"type": e.get("type", ""), "tlp": e.get("tlp", ""),
                    "at": e.get("occurred_at") or e.get("shared_at"), "fields": fields})
    return out


VALUE_LABELS = {"status": messages.STATUS, "level": messages.LEVEL_SHORT}


def _text(key: str, value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return VALUE_LABELS.get(key, {}).get(str(value), str(value))
