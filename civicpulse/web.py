"""JSON helpers for nameko `@http` entrypoints: bodies in, `str` bodies out, errors as 4xx."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from marshmallow import Schema, ValidationError

log = logging.getLogger(__name__)

Response = tuple[int, dict[str, str], str]
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class HttpError(Exception):
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class BadRequest(HttpError):
    status = 400


class Unauthorized(HttpError):
    status = 401


class Forbidden(HttpError):
    status = 403


class NotFound(HttpError):
    status = 404


class Conflict(HttpError):
    status = 409


class ServiceUnavailable(HttpError):
    status = 503


def json_response(status: int, data: Any) -> Response:
    return status, dict(JSON_HEADERS), json.dumps(data, ensure_ascii=False, default=str)


MAX_JSON_DEPTH = 32


def load_json(request: Any, schema: Schema | None = None) -> Any:
    """The request's JSON body (validated by `schema` if given); 400 with the reason for
    invalid JSON, nesting deeper than MAX_JSON_DEPTH, or a body the schema refuses."""
    try:
        data = json.loads(request.get_data(as_text=True) or "null")
    except RecursionError as exc:
        raise BadRequest(f"body nests deeper than {MAX_JSON_DEPTH} levels") from exc
    except ValueError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from exc
    if json_depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(f"body nests deeper than {MAX_JSON_DEPTH} levels")
    if schema is None:
        return data
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise BadRequest("invalid request body", fields=exc.messages) from exc


def load_query(request: Any, schema: Schema) -> dict[str, Any]:
    """The query string loaded by `schema`; 400 naming the fields it refuses."""
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise BadRequest("invalid query", fields=exc.messages) from exc


class OneOrMoreOf:
    """A query value naming one choice or several joined by commas (`status=todo,doing`):
    a marshmallow validator refusing any part that is not one of `choices`."""

    def __init__(self, choices: Sequence[str]) -> None:
        self.choices = tuple(choices)

    def __call__(self, value: str) -> None:
        unknown = [part for part in value.split(",") if part not in self.choices]
        if unknown:
            raise ValidationError(f"unknown value {unknown[0]!r}; one or more of {self.choices}")


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar is 0), iteratively;
    BadRequest for a string holding NUL (no database stores it)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise BadRequest("strings may not contain NUL (\\u0000)")
            continue
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else \
            node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:
            stack.extend((child, depth + 1) for child in children)
    return deepest


def bearer_token(request: Any) -> str:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    return auth[7:].strip()


def json_api(fn: Callable[..., Any]) -> Callable[..., Response]:
    """Wrap an @http method: return JSON; map HttpError to its status with a JSON reason."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            result = fn(*args, **kwargs)
        except HttpError as exc:
            body = {"error": str(exc), **exc.details}
            return json_response(exc.status, body)
        if isinstance(result, tuple):
            status, data = result
            return json_response(status, data)
        return json_response(200, result)

    return wrapper
