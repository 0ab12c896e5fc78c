"""The partner event catalogue: an AsyncAPI 3.0 document of the partner channel, generated from
the marshmallow contracts (civicpulse.contracts), so it cannot drift from what is validated.

Every contract that declares `partner_tlp` is a message: its envelope (id, type, version,
occurred_at, producer, correlation_id, causation_id, tlp, payload) as JSON Schema with `type`
and `version` fixed, `tlp` limited to the declared levels, and the payload's schema (apispec's
marshmallow converter). liaison serves it to partners at `GET /partner/catalogue` (their
token), and `civicpulse partners catalogue --write-docs` renders it into docs/partners.md.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from civicpulse import contracts
from civicpulse.envelope import EnvelopeSchema
from services.liaison.partner_accounts import PartnerEndpoint

VERSION = "1.0.0"
AUDIENCE = {"AMBER": "the agencies on the ticket",
            "GREEN": "every agency in the directory", "CLEAR": "every agency in the directory"}
DOC_START, DOC_END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"


@cache
def _converter() -> Any:
    plugin = MarshmallowPlugin()
    APISpec("CivicPulse partner events", VERSION, "3.1.0", plugins=[plugin])
    return plugin.converter


def json_schema(schema: type[Schema]) -> dict[str, Any]:
    return dict(_converter().schema2jsonschema(schema))


def message_id(type_: str, version: int) -> str:
    return f"{type_}.v{version}"


def _schema_name(type_: str, version: int) -> str:
    return "".join(p.capitalize() for p in re.split(r"[._]", type_)) + f"V{version}Payload"


def _envelope(type_: str, version: int, tlps: tuple[str, ...], payload_ref: str
              ) -> dict[str, Any]:
    env = json_schema(EnvelopeSchema)
    env["properties"] = {**env["properties"], "type": {"type": "string", "const": type_},
                         "version": {"type": "integer", "const": version},
                         "tlp": {"type": "string", "enum": list(tlps)},
                         "payload": {"$ref": payload_ref}}
    return env


def _message(type_: str, version: int, schema: type[Schema]) -> dict[str, Any]:
    tlps = tuple(getattr(schema, "partner_tlp", ()))
    doc = (schema.__doc__ or "").strip().split("\n\n")[0]
    return {"name": type_, "title": f"{type_} v{version}", "summary": " ".join(doc.split()),
            "contentType": "application/json", "x-tlp": list(tlps),
            "x-audience": "; ".join(AUDIENCE[t] for t in tlps),
            "payload": _envelope(type_, version, tlps,
                                 f"#/components/schemas/{_schema_name(type_, version)}")}


def document(endpoint: PartnerEndpoint | None = None) -> dict[str, Any]:
    """The AsyncAPI document (a dict, JSON-ready)."""
    visible = contracts.partner_visible()
    messages = {message_id(t, v): _message(t, v, s) for t, v, s in visible}
    refs = [{"$ref": f"#/channels/partnerQueue/messages/{m}"} for m in messages]
    doc: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {"title": "CivicPulse partner events", "version": VERSION,
                 "description": "What a partner agency receives on its queue partner.<code> "
                                "(and by webhook): at least once, de-duplicate by `id`. "
                                "docs/partners.md, docs/对接说明.md."},
        "defaultContentType": "application/json",
        "channels": {"partnerQueue": {
            "address": "partner.{agency}",
            "parameters": {"agency": {"description": "the agency code, e.g. cac"}},
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
            "bindings": {"amqp": {"is": "queue", "queue": {
                "name": "partner.{agency}", "durable": True, "exclusive": False,
                "autoDelete": False}}}}},
        "operations": {"receiveSharedEvent": {
            "action": "receive", "channel": {"$ref": "#/channels/partnerQueue"},
            "summary": "Consume, handle, then ack (manual acknowledgement).",
            "messages": refs},
            "receiveWebhook": _webhook_operation(messages)},
        "components": {
            "messages": messages,
            "schemas": {_schema_name(t, v): json_schema(s) for t, v, s in visible},
            "securitySchemes": {"partnerUser": {
                "type": "userPassword",
                "description": "partner-<code> and the password `civicpulse partners add` "
                               "printed"}}},
    }
    doc["channels"]["partnerWebhook"] = {
        "address": None,
        "description": "Optional: the same events as signed HTTPS POSTs to the agency's own "
                       "URL (`civicpulse partners webhook AGENCY URL`). Headers webhook-id "
                       "(= the event's id), webhook-timestamp, webhook-signature (Standard "
                       "Webhooks: v1,base64 HMAC-SHA256 of id.timestamp.body with the "
                       "agency's secret). Answer 2xx; anything else is retried with backoff. "
                       "Delivery log: GET /partner/webhook/deliveries.",
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages},
        "bindings": {"http": {"method": "POST"}}}
    if endpoint is not None:
        doc["servers"] = {"broker": {
            "host": f"{endpoint.host}:{endpoint.port}",
            "protocol": "amqps" if endpoint.tls else "amqp", "protocolVersion": "0-9-1",
            "pathname": "/" + endpoint.vhost.lstrip("/"),
            "security": [{"$ref": "#/components/securitySchemes/partnerUser"}]}}
        doc["channels"]["partnerQueue"]["servers"] = [{"$ref": "#/servers/broker"}]
    return doc


def _webhook_operation(messages: dict[str, Any]) -> dict[str, Any]:
    return {"action": "receive", "channel": {"$ref": "#/channels/partnerWebhook"},
            "summary": "Verify the signature, de-duplicate by id, handle, answer 2xx.",
            "messages": [{"$ref": f"#/channels/partnerWebhook/messages/{m}"}
                         for m in messages]}


# --- docs/partners.md ------------------------------------------------------------------------

def _fields(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", ()))
    return ", ".join(f"`{name}`{'' if name in required else '?'}"
                     for name in schema.get("properties", {}))


def markdown(doc: dict[str, Any]) -> str:
    """The catalogue as a table (generated; `?` marks an optional field)."""
    rows = ["| event | version | TLP | who receives it | payload fields (`?` optional) |",
            "|---|---|---|---|---|"]
    schemas = doc["components"]["schemas"]
    for msg in doc["components"]["messages"].values():
        payload = schemas[msg["payload"]["properties"]["payload"]["$ref"].rsplit("/", 1)[1]]
        version = msg["payload"]["properties"]["version"]["const"]
        rows.append(f"| `{msg['name']}` | {version} | {', '.join(msg['x-tlp'])} | "
                    f"{msg['x-audience']} | {_fields(payload)} |")
    return "\n".join(rows)


def render_into(path: Path, doc: dict[str, Any]) -> bool:
    """Replace the generated block of `path`; True if the file changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(DOC_START) + len(DOC_START), text.index(DOC_END)
    new = text[:start] + "\n" + markdown(doc) + "\n" + text[end:]
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
