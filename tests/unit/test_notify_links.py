"""Every link notify puts in a mail or an inbox message opens a page of the console (its
shipped rules against the console's declared routes), and the console's inbox keeps those
links on the console."""

from __future__ import annotations

import re
import string

from werkzeug.routing import Map, Rule

from civicpulse.access import endpoints
from services.console.pages.inbox import console_path
from services.console.service import ConsoleService
from services.notify import config


def console_pages() -> Map:
    return Map([Rule(re.sub(r"<string:(\w+)>", r"<\1>", ep.url), methods=[ep.method],
                     endpoint=ep.url)
                for ep in endpoints(ConsoleService) if ep.method == "GET"])


def test_every_rule_links_to_a_console_page() -> None:
    pages = console_pages().bind("console")
    cfg = config.load()
    for rule in cfg.rules:
        fields = [f for _, f, _, _ in string.Formatter().parse(rule.link or "") if f]
        path = (rule.link or "/").format(**{f: "x-1" for f in fields}).split("?")[0]
        endpoint, _ = pages.match(path, method="GET")  # raises NotFound for a dead link
        assert endpoint is not None, rule.name
    assert cfg.console_url.endswith(":8100")


def test_the_inbox_keeps_links_on_this_console_and_drops_others() -> None:
    assert console_path("http://localhost:8100/tickets/t-1") == "/tickets/t-1"
    assert console_path("https://console.example/news/comments?state=overdue") == \
        "/news/comments?state=overdue"
    assert console_path("javascript:alert(1)") is None
    assert console_path("http://evil.example//evil.example/x") is None
    assert console_path(None) is None and console_path("") is None
