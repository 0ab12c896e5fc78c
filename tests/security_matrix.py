"""The authorization matrix (docs/security-matrix.yaml): load it, compare it with the endpoints
the services declare, render it into docs/security.md.

    python -m tests.security_matrix      # rewrite the matrix section of docs/security.md
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "security-matrix.yaml"
DOC = ROOT / "docs" / "security.md"
CALLERS = ("anonymous", "bogus", "editor", "section_head", "leader_in_charge", "principal",
           "admin", "partner_on", "partner_off", "collector")
BEGIN = "<!-- matrix:begin (generated from docs/security-matrix.yaml) -->"
END = "<!-- matrix:end -->"

Matrix = dict[tuple[str, str, str], frozenset[str]]  # (service, method, path) -> allowed


def load() -> Matrix:
    data = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    groups = data["groups"]
    out: Matrix = {}
    for service, rows in data["endpoints"].items():
        for route, names in rows.items():
            method, path = route.split(" ", 1)
            allowed = {c for n in names for c in groups.get(n, [n])}
            assert allowed <= set(CALLERS), f"{service} {route}: unknown caller {allowed}"
            out[(service, method, path)] = frozenset(allowed)
    return out


def declared() -> set[tuple[str, str, str]]:
    """(service, method, path) of every HTTP entrypoint the services declare."""
    from civicpulse.access import endpoints
    from civicpulse.settings import SERVICE_CLASSES

    found = set()
    for service, where in SERVICE_CLASSES.items():
        module, cls = where.split(":")
        for ep in endpoints(getattr(importlib.import_module(module), cls)):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", ep.url)
            found.update((service, m, path) for m in ep.method.split(","))
    return found


def render(matrix: Matrix) -> str:
    head = "| service | endpoint | " + " | ".join(CALLERS) + " |"
    rule = "|---|---|" + "---|" * len(CALLERS)
    rows = [f"| {svc} | `{method} {path}` | "
            + " | ".join("✓" if c in allowed else "✗" for c in CALLERS) + " |"
            for (svc, method, path), allowed in matrix.items()]
    return "\n".join([BEGIN, head, rule, *rows, END])


def doc_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(BEGIN):text.index(END) + len(END)]


def write_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(text.replace(doc_section(), render(load())), encoding="utf-8")


if __name__ == "__main__":
    write_doc()
