"""Accuracy of a model on the fixed held-out splits, and its throughput on one core.

    python -m services.sentiment.model.evaluate [--model PATH] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.sentiment.model import label_of
from services.sentiment.model.data import DEFAULT_DATA_DIR, Example, load_corpus
from services.sentiment.model.scorer import MODEL_PATH, Scorer


def split_report(scorer: Scorer, examples: list[Example]) -> dict:
    """Size, positives, accuracy (forced choice at 0.5) and the share scored neutral (0.4-0.6)."""
    probs = scorer.predict_proba([text for _, text in examples])
    hits = sum((p >= 0.5) == bool(label) for p, (label, _) in zip(probs, examples, strict=True))
    neutral = sum(label_of(p) == "neutral" for p in probs)
    return {"n": len(examples), "positive": sum(label for label, _ in examples),
            "accuracy": round(hits / len(examples), 4),
            "neutral_share": round(neutral / len(examples), 4)}


def evaluate(model: Path = MODEL_PATH, data_dir: Path = DEFAULT_DATA_DIR) -> dict:
    scorer = Scorer(model)
    corpus = load_corpus(data_dir)
    return {name: split_report(scorer, split) for name, split in corpus.splits.items() if split}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Held-out accuracy and throughput")
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--no-speed", action="store_true", help="skip the throughput run")
    args = parser.parse_args(argv)
    report: dict = {"model": str(args.model), "held_out": evaluate(args.model, args.data.resolve())}
    if not args.no_speed and args.model == MODEL_PATH:
        from services.sentiment.model.throughput import measure_scoring

        report["throughput"] = measure_scoring(data_dir=args.data.resolve())
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
