"""Training end to end on tiny synthetic corpora (each run takes about a second).

Training runs as `python -m services.sentiment.model.train` in a fresh process, as
`make train-sentiment` does: fastText's training is not reproducible in a process that has already
loaded other fastText models (seen here as rare NaN divergences).
"""

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from services.sentiment.model import data, train, validation
from services.sentiment.model.scorer import Scorer, expert_path

GOOD = ["很好", "满意", "不错", "喜欢", "推荐", "开心"]
BAD = ["很差", "失望", "糟糕", "讨厌", "垃圾", "难过"]
FILLER = ["今天", "这个", "东西", "我们", "那里", "感觉"]
ROOT = Path(__file__).resolve().parents[2]


def _train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.sentiment.model.train", "--threads", "1",
                           "--bucket", "100000", *args],
                          capture_output=True, text=True, timeout=240, cwd=ROOT)


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
                for cat in ("书籍", "蒙牛", "热水器", "计算机")
                for label in (0, 1) for _ in range(30)]
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
    untouched = {text[:3] for _, text in first.splits["untouched_domain_short"]}
    assert untouched == {"计算机"}
    assert not any(text.startswith(("蒙牛", "热水器", "计算机")) for text in train_texts)
    assert len(first.groups) == len(first.train)
    assert set(first.groups) == {"weibo:a", "weibo:b", "reviews:books", "reviews:hotel"}


def test_training_end_to_end_writes_model_and_report(corpora, tmp_path):
    out = tmp_path / "model" / "m.ftz"
    assert _train("--data", str(corpora), "--out", str(out), "--epoch", "30").returncode == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert set(report["held_out"]) == {"weibo", "weibo_stripped", "unseen_domain_short",
                                       "untouched_domain_short"}
    assert report["held_out"]["unseen_domain_short"]["accuracy"] >= 0.9
    assert report["general"]["fold_max_abs_difference"] < 1e-4
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
    result = _train("--data", str(empty), "--extra", str(extra), "--out", str(out),
                    "--extra-weight", "1", "--epoch", "30")
    assert result.returncode == 0, result.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    assert (report["extra_rows"], report["extra_rows_held_out"]) == (300, 60)
    assert report["train_examples"] == 240
    assert report["held_out"]["extra"]["n"] == 60
    assert report["held_out"]["extra"]["accuracy"] >= 0.9
    scorer = Scorer(out)
    assert scorer.score("甲乙丙") > 0.5 > scorer.score("丁戊己")


def test_enough_data_gets_a_fitted_temperature(corpora, tmp_path):
    rng = random.Random(5)
    rows = [[label, _text(rng, GOOD if label else BAD)] for label in (0, 1) for _ in range(1_300)]
    extra = _write(tmp_path / "mine.csv", ["label", "text"], rows)  # enough for a calibration set
    out = tmp_path / "m.ftz"
    assert _train("--data", str(corpora), "--extra", str(extra), "--out", str(out)).returncode == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["calibration_examples"] > 0
    assert report["temperature"] != 1.0
    assert Scorer(out).temperature == report["temperature"]


def test_bad_training_input_is_a_clear_error_and_keeps_the_old_model(tmp_path, capsys):
    extra = _write(tmp_path / "bad.csv", ["label", "text"], [["maybe", "嗯"]])
    previous = tmp_path / "m.ftz"
    previous.write_bytes(b"previous model")
    assert train.main(["--data", str(tmp_path), "--extra", str(extra), "--out", str(previous)]) == 2
    assert "bad.csv:2" in capsys.readouterr().err
    assert train.main(["--data", str(tmp_path), "--out", str(previous)]) == 2
    assert previous.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "m.ftz"]


def test_validation_splits_are_carved_out_of_the_training_data(corpora):
    final, first = data.load_corpus(corpora), validation.load_validation_corpus(corpora)
    assert first.splits == validation.load_validation_corpus(corpora).splits  # fixed seed
    assert (len(first.splits["val_weibo"]), len(first.splits["val_domain_short"])) == (19, 60)
    final_held_out = {text for split in final.splits.values() for _, text in split}
    tuning = {text for split in first.splits.values() for _, text in split}
    train_texts = {text for _, text in first.train}
    assert not final_held_out & (tuning | train_texts)  # the final splits are never touched
    assert not tuning & train_texts
    assert tuning <= {text for _, text in final.train}
    assert all(text.startswith("书籍") for _, text in first.splits["val_domain_short"])
    assert not any(text.startswith("书籍") for text in train_texts)
    assert all("[" not in text for _, text in first.splits["val_weibo_stripped"])


def test_validation_training_reports_only_validation_splits(corpora, tmp_path):
    out = tmp_path / "try.ftz"
    result = _train("--data", str(corpora), "--validation", "--out", str(out), "--epoch", "30")
    assert result.returncode == 0, result.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["corpus"] == "validation"
    assert set(report["held_out"]) == {"val_weibo", "val_weibo_stripped", "val_domain_short"}
    with pytest.raises(SystemExit):  # never over the shipped model
        train.main(["--data", str(corpora), "--validation"])


def test_labels_accept_numbers_and_words():
    assert [data.parse_label(v) for v in ("1", "positive", " Negative ", "0")] == [1, 1, 0, 0]
    with pytest.raises(ValueError):
        data.parse_label("neutral")
