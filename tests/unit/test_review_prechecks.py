"""Automatic pre-checks, pure: lexicon (Aho-Corasick), format rules, outdated references."""

from __future__ import annotations

import pytest

from services.review import config
from services.review.prechecks import Prechecker, Rules, Term, well_formed

CHECK = config.load_prechecks()


def run(title: str = "人大工作进行时", body: str = "<p>正文</p>", author: str = "li",
        year: int = 2026, checker: Prechecker = CHECK) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in checker.run(
        {"title": title, "body": body, "author": author}, year)]


def test_a_clean_revision_has_no_findings() -> None:
    body = ('<h2>2026年工作要点</h2><p>详见<a href="https://www.example.gov.cn/a">原文</a>'
            '与<a href="/news/1">本站</a>。</p><img src="/a.png" alt="会场">'
            '\n\n[链接](https://example.cn/x) ![合影](/b.png)\n## 2024年工作总结')
    assert run(body=body) == []


def test_prohibited_terms_block_and_sensitive_terms_warn_case_insensitively() -> None:
    body = "网传消息。本文为内部资料，todo"
    found = CHECK.run({"title": "关于某事的情况", "body": body, "author": "a"}, 2026)
    by_term = {f.message.split("「")[1].split("」")[0]: f.severity for f in found}
    assert by_term == {"网传": "warning", "内部资料": "blocking", "TODO": "blocking"}
    assert all(f.rule == "lexicon" for f in found)
    assert "内部资料" in next(f.excerpt for f in found if "内部资料" in f.message)


def test_each_term_reported_once_and_matching_is_linear_in_the_text() -> None:
    rules = Rules(terms=tuple(Term(f"词{i:04d}", "sensitive", "warning") for i in range(5000)))
    checker = Prechecker(rules)
    found = checker.run({"title": "标题标题", "body": "词0042" * 1000 + "词4999", "author": "a"},
                        2026)
    assert sorted(f.message for f in found) == ["sensitive term 「词0042」",
                                                "sensitive term 「词4999」"]


@pytest.mark.parametrize(("title", "expected"), [
    ("短", [("title_length", "blocking")]),
    ("长" * 61, [("title_length", "blocking")]),
    ("", [("required_field", "blocking")]),
])
def test_title_rules(title: str, expected: list[tuple[str, str]]) -> None:
    assert run(title=title) == expected


def test_required_fields() -> None:
    assert run(body="  ", author="") == [("required_field", "blocking")] * 2


def test_images_need_alt_text_html_and_markdown() -> None:
    assert run(body='<img src="a.png"><img src="b.png" alt=" "> ![](c.png) ![图](d.png)') == [
        ("image_alt", "warning")] * 3


@pytest.mark.parametrize("url", ["https://www.npc.gov.cn/a?b=1#c", "/news/1.html", "#top",
                                 "mailto:office@example.cn"])
def test_well_formed_links(url: str) -> None:
    assert well_formed(url)


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "http://", "ht tp://x",
                                 "www.example.cn", "//cdn.example.cn/x", "ftp://x.cn/f",
                                 " https://x.cn", "http://[::1"])
def test_malformed_links(url: str | None) -> None:
    assert not well_formed(url)


def test_malformed_links_in_a_body_block() -> None:
    body = '<a href="javascript:void(0)">x</a><a>no href</a> [y](www.x.cn) [z](https://ok.cn'
    assert run(body=body) == [("malformed_link", "blocking")] * 4


def test_a_past_year_in_a_present_tense_heading_is_outdated() -> None:
    assert run(title="2023年工作要点") == [("outdated_reference", "warning")]
    assert run(body="<h3>2025年度重点工作</h3>") == [("outdated_reference", "warning")]
    assert run(body="## 2024 年工作计划\n正文") == [("outdated_reference", "warning")]
    assert run(title="2026年工作要点") == []
    assert run(title="2023年工作总结") == []  # a retrospective may name its year
    assert run(title="2023年工作要点", year=2023) == []


def test_severity_is_configurable_and_validated() -> None:
    strict = Prechecker(Rules(severity={"image_alt": "blocking"}))
    assert run(body='<img src="a.png">', checker=strict) == [("image_alt", "blocking")]
    with pytest.raises(ValueError):
        Rules(severity={"image_alt": "fatal"})
    with pytest.raises(ValueError):
        Rules(severity={"spelling": "warning"})
    with pytest.raises(ValueError):
        Rules(terms=(Term("x", "c", "maybe"),))


def test_lexicon_file_is_validated(tmp_path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("lexicon:\n  - {term: x, category: c, severity: loud}\n", encoding="utf-8")
    with pytest.raises(Exception, match="severity"):
        config.load_prechecks(bad)
