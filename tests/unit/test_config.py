"""One way to configure: validated YAML read once per content, one Config provider, timers whose
interval comes from the loaded configuration, and no environment reads inside services."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema, fields
from nameko.testing.utils import get_extension

from civicpulse import settings
from civicpulse.config import Config, ConfigError, of_container, read_yaml
from civicpulse.timers import ConfiguredTimer, every

ROOT = Path(__file__).resolve().parents[2]


class _Doc(Schema):
    every_seconds = fields.Float(required=True)


def test_yaml_is_parsed_once_per_content_and_read_again_when_edited(tmp_path: Path) -> None:
    file = tmp_path / "x.yaml"
    file.write_text("every_seconds: 2\n", encoding="utf-8")
    first = read_yaml(file, _Doc)
    assert first == {"every_seconds": 2.0}
    assert read_yaml(file, _Doc) is first, "same content: the cached, validated dict"
    file.write_text("every_seconds: 3.5\n", encoding="utf-8")
    os.utime(file, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert read_yaml(file, _Doc) == {"every_seconds": 3.5}


def test_an_invalid_or_missing_file_names_itself(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("every_seconds: soon\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*every_seconds"):
        read_yaml(file, _Doc)
    with pytest.raises(ValueError, match="missing.yaml"):
        read_yaml(tmp_path / "missing.yaml", _Doc)


@dataclass(frozen=True)
class _Cfg:
    tick: float


loads: list[int] = []


def _load() -> _Cfg:
    loads.append(1)
    return _Cfg(float(os.environ.get("TEST_TICK", "0.5")))  # a test loader, not a service


class _Service:
    name = "cfgtest"
    config = Config(_load)

    @every("tick")
    def attribute(self) -> None: ...

    @every(lambda cfg: cfg.tick * 2)
    def computed(self) -> None: ...

    @every(7)
    def fixed(self) -> None: ...


def test_config_is_loaded_once_per_container_and_timers_read_it(container_factory: Any,
                                                                monkeypatch: Any) -> None:
    monkeypatch.setenv("TEST_TICK", "0.25")
    loads.clear()
    container = container_factory(_Service, {"AMQP_URI": "memory://"})
    container.start()
    intervals = {name: get_extension(container, ConfiguredTimer, method_name=name).interval
                 for name in ("attribute", "computed", "fixed")}
    assert intervals == {"attribute": 0.25, "computed": 0.5, "fixed": 7.0}
    assert of_container(container) == _Cfg(0.25)
    assert len(loads) == 1, "every timer and worker share one load"
    container.stop()
    monkeypatch.setenv("TEST_TICK", "4")
    again = container_factory(_Service, {"AMQP_URI": "memory://"})
    again.start()
    assert get_extension(again, ConfiguredTimer, method_name="attribute").interval == 4.0
    again.stop()


def test_a_timer_refuses_a_non_positive_interval(container_factory: Any,
                                                 monkeypatch: Any) -> None:
    monkeypatch.setenv("TEST_TICK", "0")
    container = container_factory(_Service, {"AMQP_URI": "memory://"})
    with pytest.raises(ValueError, match="interval must be a positive"):
        container.start()


def test_declared_variables_are_typed_and_fall_back_to_their_default(monkeypatch: Any) -> None:
    monkeypatch.setenv("REVIEW_OVERDUE_SWEEP_SECONDS", "0.5")
    assert settings.value("REVIEW_OVERDUE_SWEEP_SECONDS") == 0.5
    monkeypatch.setenv("REVIEW_OVERDUE_SWEEP_SECONDS", "")
    assert settings.value("REVIEW_OVERDUE_SWEEP_SECONDS") == 15.0
    monkeypatch.setenv("REVIEW_OVERDUE_SWEEP_SECONDS", "soon")
    with pytest.raises(ValueError, match="REVIEW_OVERDUE_SWEEP_SECONDS"):
        settings.value("REVIEW_OVERDUE_SWEEP_SECONDS")


def test_nothing_but_settings_reads_the_environment() -> None:
    """Settings come from civicpulse/settings.py: no os.environ / getenv under services/ or in
    the rest of the library."""
    pattern = re.compile(r"\bos\.environ\b|\bgetenv\(")
    files = [*(ROOT / "services").rglob("*.py"), *(ROOT / "civicpulse").rglob("*.py")]
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in files if p.name != "settings.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []
