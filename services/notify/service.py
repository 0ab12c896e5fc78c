"""Notify service: nameko entrypoints only."""

from __future__ import annotations

from pathlib import Path

from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform

MIGRATIONS = Path(__file__).parent / "migrations"


class NotifyService(OperationsEndpoints):
    name = "notify"
    platform = Platform("notify", MIGRATIONS)
