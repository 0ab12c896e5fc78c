"""Marks in a text for reviewers: pre-check findings highlighted where they occur, and the
difference between two revisions. Everything user-written is escaped here; only the marks
this module adds are markup."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

TERM = re.compile(r"「(.+?)」")


def finding_needle(finding: Mapping[str, Any]) -> str:
    """What to look for in the text: a lexicon finding's term, else its excerpt."""
    if finding.get("rule") == "lexicon":
        found = TERM.search(str(finding.get("message") or ""))
        if found:
            return found.group(1)
    return str(finding.get("excerpt") or "").strip()


def _spans(text: str, findings: Iterable[Mapping[str, Any]]) -> list[tuple[int, int, str]]:
    """(start, end, severity) of every occurrence of every finding's needle, case-insensitive,
    overlaps merged (a blocking mark wins over a warning)."""
    folded = text.casefold()
    spans = []
    for f in findings:
        needle = finding_needle(f).casefold()
        if not needle or len(needle) != len(finding_needle(f)):
            continue
        start = folded.find(needle)
        while start != -1:
            spans.append((start, start + len(needle), str(f.get("severity") or "warning")))
            start = folded.find(needle, start + len(needle))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for s, e, sev in spans:
        if merged and s < merged[-1][1]:
            ps, pe, psev = merged[-1]
            merged[-1] = (ps, max(pe, e), "blocking" if "blocking" in (sev, psev) else psev)
        else:
            merged.append((s, e, sev))
    return merged


def highlight(text: str, findings: Iterable[Mapping[str, Any]]) -> Markup:
    """The text, escaped, with each finding's occurrences in <mark class="finding-SEVERITY">."""
    out, at = [], 0
    for s, e, sev in _spans(text, list(findings)):
        out.append(escape(text[at:s]))
        out.append(Markup('<mark class="finding finding-{}">{}</mark>').format(
            "blocking" if sev == "blocking" else "warning", text[s:e]))
        at = e
    out.append(escape(text[at:]))
    return Markup("").join(out)


@dataclass(frozen=True)
class Piece:
    op: str    # "same", "added", "removed"
    text: str


def diff(old: str, new: str) -> list[Piece]:
    """Character-level difference (Chinese has no spaces to split words on), grouped so that
    unchanged runs stay whole."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", old[i1:i2]))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", old[i1:i2]))
        if j2 > j1:
            pieces.append(Piece("added", new[j1:j2]))
    return pieces


def diff_markup(old: str, new: str) -> Markup:
    """The difference as escaped HTML: <del> for removed, <ins> for added text."""
    tags = {"same": Markup("{}"), "removed": Markup("<del>{}</del>"),
            "added": Markup("<ins>{}</ins>")}
    return Markup("").join(tags[p.op].format(p.text) for p in diff(old, new))
