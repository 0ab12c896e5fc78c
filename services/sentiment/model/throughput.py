"""Scoring throughput of the sentiment model on one core (batched and one text at a time).

    python -m bench.sentiment_scoring    # or: python -m services.sentiment.model.evaluate

`measure_scoring()` is what `make bench-sentiment` reports. The texts are the 6,833 texts of the
`weibo`, `weibo_stripped` and `unseen_domain_short` splits (data.py), repeated in order to make up
50,000: a speed set, not 50,000 distinct held-out texts.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fasttext

from services.sentiment.model import MODEL_PATH, Scorer
from services.sentiment.model.data import DEFAULT_DATA_DIR, load_corpus
from services.sentiment.model.text import tokens

SPEED_SPLITS = ("weibo", "weibo_stripped", "unseen_domain_short")
FALLBACK_TEXTS = ["办事效率很高，点赞[赞]", "拖了三个月没人管，太失望了", "今天下午召开常委会会议",
                  "服务态度差，投诉也没回音", "代表们认真听取了群众意见，很满意"]


@contextmanager
def _one_core() -> Iterator[int | None]:
    """Pin this process to one CPU (the first allowed) for the block, then restore its affinity;
    yields the CPU, or None where affinity is unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, allowed)


def speed_texts(n: int, data_dir: Path = DEFAULT_DATA_DIR) -> tuple[list[str], int]:
    """`n` texts for the speed runs (the SPEED_SPLITS repeated) and how many are distinct."""
    corpus = load_corpus(data_dir) if data_dir.is_dir() else None
    pool = [t for name in SPEED_SPLITS for _, t in (corpus.splits.get(name, []) if corpus else [])]
    pool = pool or FALLBACK_TEXTS
    return [pool[i % len(pool)] for i in range(n)], len(pool)


def measure_scoring(n: int = 50_000, batch: int = 10_000, one_by_one: int = 20_000,
                    repeats: int = 3, data_dir: Path = DEFAULT_DATA_DIR,
                    model: Path = MODEL_PATH) -> dict:
    """Texts/s scored in batches and one text at a time on one core (best of `repeats` runs, as
    the machine is shared: the best run is the one least disturbed), plus the model's load time.
    `fasttext_batched_texts_per_s` is the same batches through fastText's own multi-line predict
    (general model alone): what batched scoring cost before batch_scoring.py, in the same run."""
    texts, distinct = speed_texts(n, data_dir)
    with _one_core() as cpu:
        started = time.perf_counter()
        scorer = Scorer(model)  # a fresh load, to time it
        load_s = time.perf_counter() - started
        scorer.predict_proba(texts[:batch])  # warm up
        batched = max(_batched(scorer, texts, batch) for _ in range(repeats))
        single = max(_one_at_a_time(scorer, texts[:one_by_one]) for _ in range(repeats))
        reference = max(_fasttext_batched(model, texts, batch) for _ in range(repeats))
    return {
        "model": str(model),
        "cpu": cpu,
        "texts": n,
        "distinct_texts_repeated": distinct,
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "batched_texts_per_s": round(batched),
        "one_at_a_time_texts_per_s": round(single),
        "fasttext_batched_texts_per_s": round(reference),
        "repeats": repeats,
        "model_load_s": round(load_s, 3),
        "model_bytes": scorer.size_bytes,
    }


def _batched(scorer: Scorer, texts: list[str], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        scorer.predict_proba(texts[i:i + batch])
    return len(texts) / (time.perf_counter() - started)


def _fasttext_batched(model: Path, texts: list[str], batch: int) -> float:
    fasttext.FastText.eprint = lambda *args, **kwargs: None
    general = fasttext.load_model(str(model)).f
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        general.multilinePredict([tokens(t) + "\n" for t in texts[i:i + batch]], 1, 0.0, "replace")
    return len(texts) / (time.perf_counter() - started)


def _one_at_a_time(scorer: Scorer, texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        scorer.score(text)
    return len(texts) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="One-core scoring throughput")
    parser.add_argument("--model", type=Path, action="append",
                        help="model file(s) to measure one after the other in this run "
                             "(default: the shipped one)")
    for model in parser.parse_args(argv).model or [MODEL_PATH]:
        print(json.dumps(measure_scoring(model=model), indent=2))


if __name__ == "__main__":
    main()
