"""The `civicpulse` command loads a service's commands only when they are run, and the logs
are human lines on a terminal, JSON elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from civicpulse import logs

HELP_IMPORTS = """
import sys
from click.testing import CliRunner
from civicpulse.cli import cli
result = CliRunner().invoke(cli, ["--help"])
assert result.exit_code == 0, result.output
# a plugin's help is read from its source: neither it nor its packages are imported
heavy = sorted(m for m in sys.modules if m.split(".")[0] in (
    "nameko", "eventlet", "services", "civicpulse_demo", "pika", "kombu", "sqlalchemy"))
print(repr(heavy))
print(result.output)
"""


def test_help_imports_no_service_and_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-c", HELP_IMPORTS], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    heavy, _, text = out.partition("\n")
    assert heavy == "[]", f"--help imported {heavy}"
    listed = {line.split()[0] for line in text.split("Commands:")[1].splitlines() if line.strip()
              and not line.startswith("    ")}
    plugins = {ep.name for ep in entry_points(group="civicpulse.commands")}
    assert plugins and plugins <= listed
    assert {"run", "status", "dlq"} <= listed
    users = [line for line in text.splitlines() if line.strip().startswith("users ")]
    assert users and len(users[0].split(None, 1)) == 2, "a plugin's help comes from its source"


def test_a_plugin_command_loads_when_it_is_run() -> None:
    from click.testing import CliRunner

    from civicpulse.cli import cli

    name = sorted(ep.name for ep in entry_points(group="civicpulse.commands"))[0]
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage: " in result.output


class Tty:
    def isatty(self) -> bool:
        return True


class Pipe:
    def isatty(self) -> bool:
        return False


def test_format_follows_the_terminal_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIVICPULSE_LOG_FORMAT", raising=False)
    assert logs.log_format(Tty()) == "human"  # type: ignore[arg-type]
    assert logs.log_format(Pipe()) == "json"  # type: ignore[arg-type]
    monkeypatch.setenv("CIVICPULSE_LOG_FORMAT", "json")
    assert logs.log_format(Tty()) == "json"  # type: ignore[arg-type]
    monkeypatch.setenv("CIVICPULSE_LOG_FORMAT", "loud")
    with pytest.raises(ValueError, match="CIVICPULSE_LOG_FORMAT"):
        logs.log_format(Tty())  # type: ignore[arg-type]


def line(level: str, logger: str, msg: str, **extra: str) -> str:
    return json.dumps({"ts": "2026-11-29T07:01:29", "level": level, "logger": logger,
                       "msg": msg, **extra})


def test_the_terminal_shows_warnings_and_our_own_messages_only() -> None:
    shown = logs.render("liaison", line("INFO", "services.liaison.partners", "declared"), "human")
    assert shown == "07:01:29 liaison    INFO    declared  [services.liaison.partners]"
    assert logs.render("news", line("WARNING", "kombu.mixins", "lost"), "human") is not None
    for quiet in (line("INFO", "alembic.runtime.migration", "Context impl"),
                  line("INFO", "nameko.web.server", "GET /readyz 200"),
                  line("ERROR", "nameko.web.server", "GET /readyz 200")):
        assert logs.render("news", quiet, "human") is None
    crash = logs.render("news", "Traceback (most recent call last):", "human")
    assert crash == "news       | Traceback (most recent call last):"
    with_exc = logs.render("news", line("ERROR", "civicpulse.outbox", "boom", exc="E1\nE2"),
                           "human")
    assert with_exc is not None and with_exc.splitlines()[1:] == ["news       | E1",
                                                                  "news       | E2"]
    as_json = json.loads(logs.render("news", line("INFO", "alembic.x", "y"), "json") or "")
    assert as_json["process"] == "news" and as_json["logger"] == "alembic.x"
