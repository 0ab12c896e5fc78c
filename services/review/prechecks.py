"""Automatic pre-checks run on every submitted revision before its first review stage.

Three kinds of rule, each finding `blocking` or a `warning` as configured (config/prechecks.yaml):

- lexicon: prohibited or sensitive terms, matched in one pass over title and body with an
  Aho-Corasick automaton (pyahocorasick), case-insensitively;
- format: title length, required fields, image alt text, well-formed links (HTML or Markdown);
- outdated references: a past year in a present-tense heading ("2023年工作要点" in 2026).

Pure: no database, no broker. `Prechecker(rules).run(submission, year)` returns the findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import ahocorasick

from services.review.domain import SEVERITIES

RULES = ("lexicon", "title_length", "required_field", "image_alt", "malformed_link",
         "outdated_reference")
LINK_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True)
class Term:
    term: str
    category: str
    severity: str
    note: str = ""


@dataclass(frozen=True)
class Rules:
    terms: tuple[Term, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    title_min: int = 4
    title_max: int = 60
    required_fields: tuple[str, ...] = ("title", "body", "author")
    present_tense: tuple[str, ...] = ("工作要点", "工作计划", "工作安排", "重点任务")

    def __post_init__(self) -> None:
        unknown = set(self.severity) - set(RULES)
        if unknown:
            raise ValueError(f"pre-check severities for unknown rules: {sorted(unknown)}")
        bad = {k: v for k, v in self.severity.items() if v not in SEVERITIES}
        bad.update({t.term: t.severity for t in self.terms if t.severity not in SEVERITIES})
        if bad:
            raise ValueError(f"severity must be one of {SEVERITIES}: {bad}")
        if not 0 < self.title_min <= self.title_max:
            raise ValueError("title length bounds must satisfy 0 < min <= max")

    def level(self, rule: str) -> str:
        return self.severity.get(rule, "blocking")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    excerpt: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity == "blocking"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class _Html(HTMLParser):
    """Collects images, links and headings of an HTML body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[str | None] = []   # alt of each <img>, None when absent
        self.links: list[str | None] = []    # href of each <a>, None when absent
        self.headings: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("alt"))
        elif tag == "a" and ("href" in a or "name" not in a):
            self.links.append(a.get("href"))
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)


MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]*)\)")
MD_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)]*)\)")
MD_BROKEN_LINK = re.compile(r"(?<!!)\[[^\]]+\]\([^)]*$", re.MULTILINE)
MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def well_formed(url: str | None) -> bool:
    """An absolute http(s)/mailto link, or a site-relative path or fragment; nothing else."""
    if not url or url != url.strip() or re.search(r"\s", url):
        return False
    if url.startswith(("/", "#")) and not url.startswith("//"):
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in LINK_SCHEMES:
        return False
    return bool(parts.path) if parts.scheme == "mailto" else bool(parts.hostname)


class Prechecker:
    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._automaton = ahocorasick.Automaton()
        for t in rules.terms:
            self._automaton.add_word(t.term.casefold(), t)
        if rules.terms:
            self._automaton.make_automaton()

    def run(self, submission: Mapping[str, object], year: int) -> list[Finding]:
        """Every finding for one revision; `year` is the office-local current year."""
        title = str(submission.get("title") or "")
        body = str(submission.get("body") or "")
        html = _Html()
        html.feed(body)
        html.close()
        return [*self.required(submission), *self.title_length(title),
                *self.lexicon(title, body), *self.images(html, body), *self.links(html, body),
                *self.outdated([title, *html.headings, *MD_HEADING.findall(body)], year)]

    def lexicon(self, title: str, body: str) -> list[Finding]:
        if not self.rules.terms:
            return []
        text = f"{title}\n{body}".casefold()
        seen: dict[str, Finding] = {}
        for end, term in self._automaton.iter(text):
            if term.term in seen:
                continue
            start = end - len(term.term) + 1
            context = text[max(0, start - 10):end + 11].replace("\n", " ")
            note = f" ({term.note})" if term.note else ""
            seen[term.term] = Finding("lexicon", term.severity,
                                      f"{term.category} term 「{term.term}」{note}", context)
        return list(seen.values())

    def required(self, submission: Mapping[str, object]) -> list[Finding]:
        return [Finding("required_field", self.rules.level("required_field"),
                        f"required field {name!r} is empty")
                for name in self.rules.required_fields
                if not str(submission.get(name) or "").strip()]

    def title_length(self, title: str) -> list[Finding]:
        n = len(title.strip())
        if not title.strip() or self.rules.title_min <= n <= self.rules.title_max:
            return []
        return [Finding("title_length", self.rules.level("title_length"),
                        f"title has {n} characters; allowed {self.rules.title_min}"
                        f"–{self.rules.title_max}", title[:80])]

    def images(self, html: _Html, body: str) -> list[Finding]:
        missing = [src for alt, src in MD_IMAGE.findall(body) if not alt.strip()]
        missing += ["<img>" for alt in html.images if not (alt or "").strip()]
        return [Finding("image_alt", self.rules.level("image_alt"),
                        "image without alt text", src[:120]) for src in missing]

    def links(self, html: _Html, body: str) -> list[Finding]:
        urls: Iterable[str | None] = [*html.links, *(u for _, u in MD_LINK.findall(body))]
        bad = [u or "" for u in urls if not well_formed(u)]
        bad += [m.group(0)[:120] for m in MD_BROKEN_LINK.finditer(body)]
        return [Finding("malformed_link", self.rules.level("malformed_link"),
                        "link is not well formed (absolute http(s)/mailto, or /path, or #anchor)",
                        u[:120]) for u in bad]

    def outdated(self, headings: Iterable[str], year: int) -> list[Finding]:
        found = []
        for heading in headings:
            if not any(word in heading for word in self.rules.present_tense):
                continue
            past = [int(y) for y in YEAR.findall(heading) if int(y) < year]
            if past:
                found.append(Finding("outdated_reference", self.rules.level("outdated_reference"),
                                     f"present-tense heading names the past year {past[0]} "
                                     f"(it is {year})", heading[:120]))
        return found
