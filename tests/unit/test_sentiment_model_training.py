"""Training end to end on tiny synthetic corpora (each run takes well under a second)."""

import csv
import json
import random
from pathlib import Path

import pytest

from services.sentiment.model import data, train
from services.sentiment.model.scorer import Scorer, expert_path

GOOD = ["很好", "满意", "不错", "喜欢", "推荐", "开心"]
BAD = ["很差", "失望", "糟糕", "讨厌", "垃圾", "难过"]
FILLER = ["今天", "这个", "东西", "我们", "那里", "感觉"]


def _text(rng: random.Random, words: list[str]) -> str:
    return "".join(rng.choice(FILLER) + rng.choice(words) for _ in range(3))


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def corpora(tmp_path: Path) -> Path:
    """The three corpus files in their real layouts, a few hundred synthetic rows in all."""
    rng = random.Random(7)
    folder = tmp_path / "data"
    folder.mkdir()
    weibo = [[1, _text(rng, GOOD) + "[哈哈]"] for _ in range(60)]
    weibo += [[0, _text(rng, BAD) + "[泪]"] for _ in range(60)]
    _write(folder / data.WEIBO, ["label", "text"], weibo)
    shopping = [[cat, label, cat + _text(rng, GOOD if label else BAD)]
                for cat in ("书籍", "蒙牛", "热水器") for label in (0, 1) for _ in range(30)]
    _write(folder / data.SHOPPING, ["cat", "label", "review"], shopping)
    hotel = [[label, _text(rng, GOOD if label else BAD)] for label in (0, 1) for _ in range(20)]
    _write(folder / data.HOTEL, ["label", "review"], hotel)
    return folder


def test_splits_are_fixed_and_held_out(corpora):
    first, second = data.load_corpus(corpora), data.load_corpus(corpora)
    assert first.splits == second.splits
    assert len(first.splits["weibo"]) == 24
    assert all("[" not in text for _, text in first.splits["weibo_stripped"])
    train_texts = {text for _, text in first.train}
    assert not train_texts & {text for _, text in first.splits["weibo"]}
    held_out = {text[:2] for _, text in first.splits["unseen_domain_short"]}
    assert held_out == {"蒙牛", "热水"}
    assert not any(text.startswith(("蒙牛", "热水器")) for text in train_texts)


def test_training_end_to_end_writes_model_and_report(corpora, tmp_path):
    out = tmp_path / "model" / "m.ftz"
    assert train.main(["--data", str(corpora), "--out", str(out), "--threads", "1"]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert set(report["held_out"]) == {"weibo", "weibo_stripped", "unseen_domain_short"}
    assert report["held_out"]["unseen_domain_short"]["accuracy"] >= 0.9
    assert not expert_path(out).exists()  # too few emoticon posts for an expert
    scorer = Scorer(out)
    assert scorer.score("东西很好，满意") > 0.5 > scorer.score("东西很差，失望")


def test_extra_rows_are_trained_on(tmp_path):
    rng = random.Random(3)
    rows = [["positive", _text(rng, GOOD + ["甲乙丙"])] for _ in range(150)]
    rows += [["negative", _text(rng, BAD + ["丁戊己"])] for _ in range(150)]
    extra = _write(tmp_path / "mine.csv", ["label", "text"], rows)
    out = tmp_path / "m.ftz"
    empty = tmp_path / "nothing"
    empty.mkdir()
    code = train.main(["--data", str(empty), "--extra", str(extra), "--out", str(out),
                       "--threads", "1", "--extra-weight", "1"])
    assert code == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["extra_rows"] == 300 and report["train_examples"] == 300
    scorer = Scorer(out)
    assert scorer.score("甲乙丙") > 0.5 > scorer.score("丁戊己")


def test_bad_training_input_is_a_clear_error(tmp_path, capsys):
    extra = _write(tmp_path / "bad.csv", ["label", "text"], [["maybe", "嗯"]])
    assert train.main(["--data", str(tmp_path), "--extra", str(extra),
                       "--out", str(tmp_path / "m.ftz")]) == 2
    assert "bad.csv:2" in capsys.readouterr().err
    assert train.main(["--data", str(tmp_path), "--out", str(tmp_path / "m.ftz")]) == 2


def test_labels_accept_numbers_and_words():
    assert [data.parse_label(v) for v in ("1", "positive", " Negative ", "0")] == [1, 1, 0, 0]
    with pytest.raises(ValueError):
        data.parse_label("neutral")
