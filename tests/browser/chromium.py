"""Playwright driving Debian's Chromium (`/usr/bin/chromium`, package `chromium`; browser
downloads are impossible here, so never `playwright install`).

The tests run eventlet-monkey-patched (tests/conftest.py). Under that patching Playwright's
sync API works, but `Playwright.stop()` never returns (it waits for the driver process through
asyncio's child watcher, whose thread is then a green thread that never runs). So `close()`
here closes the browser and ends the driver process itself."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CIVICPULSE_CHROMIUM", "/usr/bin/chromium"))
VIEWPORT = {"width": 1280, "height": 800}


def require_chromium() -> Path:
    """The Chromium executable; under CI=true a missing one fails the run, else skips."""
    if CHROMIUM.exists():
        return CHROMIUM
    message = (f"{CHROMIUM} not found: `apt-get install chromium fonts-noto-cjk` "
               "(scripts/install-system-deps.sh)")
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (required under CI=true)")
    pytest.skip(message)


class Chromium:
    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._manager = sync_playwright()
        self.playwright = self._manager.start()
        self.browser = self.playwright.chromium.launch(
            executable_path=str(require_chromium()), headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])

    def context(self, **kwargs: Any) -> Any:
        """A fresh browser context (own cookies): one per person signed in."""
        return self.browser.new_context(viewport=VIEWPORT, locale="zh-CN",
                                        timezone_id="Asia/Shanghai", **kwargs)

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            client = getattr(self._manager, "_client", None)
            proc = getattr(getattr(client, "_transport", None), "_proc", None)
            if proc is not None and proc.returncode is None:
                os.kill(proc.pid, signal.SIGTERM)
