"""Logs people can read on a terminal, JSON everywhere else, and no dependency noise.

One rule for every process: logs are JSON lines (`observability.JsonFormatter`) unless they go
to a terminal, where they are short human lines; `CIVICPULSE_LOG_FORMAT=json|human` overrides
the guess (`auto`, the default). A service's `nameko.yaml` names `LogFormatter`, which applies
the rule to its own stream; `civicpulse run` keeps each process's JSON in var/logs and shows the
lines worth reading on its terminal (`render`).

`quiet_dependencies()` hides warnings our pinned dependencies print at import and that nobody
running the suite can act on: Eventlet's deprecation notice (nameko 2.14 is built on it),
setuptools' `pkg_resources` deprecation (nameko's CLI imports it) and Alembic's INFO line per
plugin. Call it before importing eventlet or nameko (`civicpulse.serve` does, for `nameko run`).
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from typing import Any, TextIO

from civicpulse import settings

FORMATS = ("auto", "json", "human")
# the dependency warnings nobody running the suite can act on (messages are regular expressions)
NOISE = (r"\s*Eventlet is deprecated", r"pkg_resources is deprecated",
         r"Deprecated call to `pkg_resources\.declare_namespace")
QUIET_LOGGERS = {"alembic.runtime.plugins": logging.WARNING}
# (logger, message start) of log lines that say nothing: kombu on the memory:// transport
QUIET_LINES = (("kombu.connection", "No hostname was supplied"),)


class _DropLines(logging.Filter):
    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.start)
# loggers whose INFO lines a person at the terminal wants; everyone's WARNING and above show
READABLE = ("civicpulse", "services")
ACCESS_LOGGER = "nameko.web.server"
LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING,
          "ERROR": logging.ERROR, "CRITICAL": logging.CRITICAL}


def quiet_dependencies() -> None:
    for message in NOISE:
        warnings.filterwarnings("ignore", message=message)
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    for name, start in QUIET_LINES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropLines) and f.start == start for f in logger.filters):
            logger.addFilter(_DropLines(start))


def log_format(stream: TextIO | None = None) -> str:
    """`json` or `human` for `stream` (stderr by default): CIVICPULSE_LOG_FORMAT, else a
    terminal gets human lines and anything else (a file, a pipe, a container) JSON."""
    chosen = str(settings.value("CIVICPULSE_LOG_FORMAT")).lower()
    if chosen not in FORMATS:
        raise ValueError(f"CIVICPULSE_LOG_FORMAT must be one of {FORMATS}, not {chosen!r}")
    if chosen != "auto":
        return chosen
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    return "human" if isatty is not None and isatty() else "json"


class HumanFormatter(logging.Formatter):
    """`07:01:29 WARNING  civicpulse.production  development: generated ...`"""

    def format(self, record: logging.LogRecord) -> str:
        line = human_line(self.formatTime(record, "%H:%M:%S"), record.levelname, record.name,
                          record.getMessage())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class LogFormatter(logging.Formatter):
    """JSON or human lines, by `log_format()` of stderr (where nameko's handler writes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from civicpulse.observability import JsonFormatter

        quiet_dependencies()  # nameko configures logging before it starts the service
        self._inner = HumanFormatter() if log_format() == "human" else JsonFormatter()

    def format(self, record: logging.LogRecord) -> str:
        return self._inner.format(record)


def human_line(clock: str, level: str, logger: str, message: str, source: str = "") -> str:
    who = f"{source:<10} " if source else ""
    return f"{clock} {who}{level:<7} {message}  [{logger}]"


def worth_reading(level: str, logger: str, message: str) -> bool:
    """What the terminal shows: warnings and errors from anyone; INFO from CivicPulse's own
    code; never the HTTP access log (health probes, scrapes)."""
    if logger == ACCESS_LOGGER:
        return False
    if LEVELS.get(level, logging.INFO) >= logging.WARNING:
        return True
    return level == "INFO" and logger.split(".", 1)[0] in READABLE


def render(source: str, line: str, fmt: str) -> str | None:
    """One line of a process's JSON log as the launcher's terminal shows it (None: not shown).

    `json`: the object with `"process": source` added; `human`: a short line, and only the lines
    worth reading. A line that is not JSON (a traceback, a crash message) is shown as it is."""
    line = line.rstrip("\n")
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict) or "msg" not in record:
        return f"{source:<10} | {line}" if fmt == "human" else line
    if fmt == "json":
        return json.dumps({**record, "process": source}, ensure_ascii=False)
    level, logger, message = (str(record.get("level", "INFO")), str(record.get("logger", "")),
                              str(record["msg"]))
    if not worth_reading(level, logger, message):
        return None
    clock = str(record.get("ts", ""))[11:19]
    text = human_line(clock, level, logger, message, source)
    if record.get("exc"):
        text += "\n" + "\n".join(f"{source:<10} | {x}" for x in str(record["exc"]).splitlines())
    return text
