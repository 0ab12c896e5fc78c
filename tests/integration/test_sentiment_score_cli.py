"""`civicpulse sentiment score INPUT.csv OUTPUT.csv` end to end, as another tool would run it."""

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / ".venv" / "bin" / "civicpulse"


def _run(*args: str) -> subprocess.CompletedProcess:
    command = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "civicpulse.cli"]
    return subprocess.run([*command, "sentiment", "score", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_scores_every_row_in_order_keeping_columns(tmp_path):
    texts = ["服务很好，非常满意", "拖了三个月没人管，太失望了", "", "含逗号,和\"引号\"\n还有换行"]
    rows = [{"id": str(i), "text": texts[i % len(texts)], "source": f"s{i % 3}"}
            for i in range(2_500)]
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as handle:  # with a BOM
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "source"])
        writer.writeheader()
        writer.writerows(rows)
    target = tmp_path / "out.csv"
    result = _run(str(source), str(target), "--chunk-rows", "1000")
    assert result.returncode == 0, result.stderr
    with target.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["id", "text", "source", "score", "label"]
        out = list(reader)
    assert [(r["id"], r["text"], r["source"]) for r in out] == [
        (r["id"], r["text"], r["source"]) for r in rows
    ]
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in out)
    assert [r["label"] for r in out[:3]] == ["positive", "negative", "neutral"]
    assert out[2]["score"] == "0.5000"


def test_missing_text_column_fails_with_a_reason(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,body\n1,很好\n", encoding="utf-8")
    result = _run(str(source), str(tmp_path / "out.csv"))
    assert result.returncode != 0
    assert "no 'text' column" in result.stderr


def test_undecodable_input_fails_with_a_reason(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"text\n\xff\xfe\xfa\n")
    result = _run(str(source), str(tmp_path / "out.csv"))
    assert result.returncode != 0
    assert "cannot read as UTF-8 CSV" in result.stderr


def test_existing_score_and_label_columns_are_never_overwritten(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("text,score,label,sentiment_label\n服务很好，非常满意,7,mine,x\n"
                      "拖了三个月没人管，太失望了,3,theirs,y\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    result = _run(str(source), str(target))
    assert result.returncode == 0, result.stderr
    assert "already has a 'score' column" in result.stderr
    assert "already has a 'label' column" in result.stderr
    with target.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["text", "score", "label", "sentiment_label",
                                     "sentiment_score", "sentiment_sentiment_label"]
        out = list(reader)
    assert [(r["score"], r["label"], r["sentiment_label"]) for r in out] == [
        ("7", "mine", "x"), ("3", "theirs", "y")]
    assert [r["sentiment_sentiment_label"] for r in out] == ["positive", "negative"]
    assert float(out[0]["sentiment_score"]) > 0.6 > 0.4 > float(out[1]["sentiment_score"])


def test_only_the_taken_name_is_prefixed(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("label,text\n1,服务很好，非常满意\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    result = _run(str(source), str(target))
    assert result.returncode == 0, result.stderr
    assert "'score'" not in result.stderr
    with target.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["label", "text", "score", "sentiment_label"]
        assert [r["label"] for r in reader] == ["1"]
