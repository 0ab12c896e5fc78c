"""A service's YAML configuration files: read and validated once per content.

`read_yaml(path, Schema)` parses a file and validates it with a marshmallow schema; the result is
cached by path, size and modification time, so every service reads its YAML the same way,
cheaply, and an edited file is read again. A service's `config/__init__.py` imports it from here
(not from `civicpulse.config`, which also holds the nameko `Config` provider): its use cases import
that module, and use cases import no nameko.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError


class ConfigError(ValidationError, ValueError):
    """A configuration file is invalid; the message names the file and the problem. (Both a
    marshmallow ValidationError and a ValueError, as the services' own checks raise.)"""


def read_yaml(path: str | Path, schema: type[Schema] | None = None) -> Any:
    """The file's YAML, validated with `schema` (a marshmallow Schema class) when given.

    Cached by (path, size, mtime): the same file is parsed and validated once. Callers must not
    mutate the result (it is shared)."""
    file = Path(path).resolve()
    try:
        stat = file.stat()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read ({exc.strerror})") from exc
    return _read(str(file), stat.st_size, stat.st_mtime_ns, schema)


@lru_cache(maxsize=64)
def _read(file: str, _size: int, _mtime: int, schema: type[Schema] | None) -> Any:
    data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    if schema is None:
        return data
    try:
        return schema().load(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(f"{file}: {exc.messages}") from exc
