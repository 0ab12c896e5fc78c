"""Batched prediction of a character-token fastText model in numpy: the same numbers as fastText's
own ``predict``, for a whole batch in a handful of array operations.

fastText predicts one line at a time in C++, so a batch costs one string join, one parse and one
hash loop per text (about 30k texts/s on this machine). The shipped models use only what
features.py reproduces — one token per character, the ``</s>`` token, word 2- and 3-grams hashed
into buckets, no subwords (``maxn`` 0) — so a batch can be done at once: every character of every
text goes through two tables indexed by code point (its dictionary row and its fastText hash), the
n-gram hashes are computed for the whole batch with wrapping 64-bit arithmetic, and each text's
hidden vector is the mean of its input rows (``np.bincount`` per dimension).

``BatchModel.positive`` takes the texts as text.character_codes prepares them (one array of code
points) and returns what ``Scorer`` read from fastText before: the probability of
``__label__1`` as fastText reports it (its top label's probability plus fastText's 1e-5, clipped).
tests/unit/test_sentiment_batch_scoring.py checks it against fastText on every held-out text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.sentiment.model.features import EOS, NGRAM_MULTIPLIER, WORD_NGRAMS, fasttext_hash

UNICODE_SIZE = 0x110000
POSITIVE = "__label__1"
FASTTEXT_LOG_EPS = 1e-5  # fastText reports exp(log(p + 1e-5))


def _utf8_bytes(code_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 encoding of every code point as a (n, 4) byte array and its length (1-4)."""
    cp = code_points.astype(np.uint32)
    length = np.select([cp < 0x80, cp < 0x800, cp < 0x10000], [1, 2, 3], 4).astype(np.int64)
    out = np.zeros((len(cp), 4), dtype=np.uint32)
    out[:, 0] = np.select(
        [length == 1, length == 2, length == 3],
        [cp, 0xC0 | (cp >> 6), 0xE0 | (cp >> 12)], 0xF0 | (cp >> 18))
    continuation = [(cp >> 12) & 0x3F, (cp >> 6) & 0x3F, cp & 0x3F]
    for position in range(1, 4):
        # byte `position` of an encoding of `length` bytes is continuation[position - length + 3]
        for total in range(position + 1, 5):
            mask = length == total
            out[mask, position] = 0x80 | continuation[position - total + 3][mask]
    return out, length


def code_point_hashes() -> np.ndarray:
    """fastText's token hash of every one-character token, indexed by code point, as the uint64
    that ``addWordNgrams`` reads (the uint32 hash stored in an int32 and sign-extended)."""
    encoded, length = _utf8_bytes(np.arange(UNICODE_SIZE))
    h = np.full(UNICODE_SIZE, 2166136261, dtype=np.uint32)
    for position in range(4):
        byte = encoded[:, position]
        signed = np.where(byte > 127, byte | np.uint32(0xFFFFFF00), byte).astype(np.uint32)
        mixed = (h ^ signed) * np.uint32(16777619)
        h = np.where(length > position, mixed, h)
    return h.astype(np.int32).astype(np.int64).astype(np.uint64)


def _as_ngram_hash(h: int) -> np.uint64:
    return np.uint64((h - (1 << 32) if h >= (1 << 31) else h) & 0xFFFFFFFFFFFFFFFF)


class BatchModel:
    """One fastText supervised model (``maxn`` 0, single-character vocabulary) for numpy batches."""

    def __init__(self, words: Sequence[str], labels: Sequence[str], input_matrix: np.ndarray,
                 output_matrix: np.ndarray, bucket: int, word_ngrams: int,
                 hashes: np.ndarray) -> None:
        if word_ngrams != WORD_NGRAMS:
            raise ValueError(f"batch scoring supports wordNgrams={WORD_NGRAMS}, not {word_ngrams}")
        self.nwords = len(words)
        self.bucket = np.uint64(bucket)
        self.columns = [np.ascontiguousarray(column, dtype=np.float64)
                        for column in np.asarray(input_matrix).T]  # one array per dimension
        self.output = np.asarray(output_matrix, dtype=np.float64)
        self.positive_row = list(labels).index(POSITIVE)
        self.row_of = np.full(UNICODE_SIZE, -1, dtype=np.int64)
        for row, word in enumerate(words):
            if len(word) == 1:
                self.row_of[ord(word)] = row
            elif word != EOS:
                raise ValueError(f"batch scoring needs one-character tokens, found {word!r}")
        self.eos_row = list(words).index(EOS)
        self.eos_hash = _as_ngram_hash(fasttext_hash(EOS))
        self.hashes = hashes

    @classmethod
    def from_fasttext(cls, model, hashes: np.ndarray) -> BatchModel:  # noqa: ANN001
        """From a loaded ``fasttext`` model (the Python wrapper); `hashes` = code_point_hashes()."""
        args = model.f.getArgs()
        if args.maxn > 0:
            raise ValueError("batch scoring does not compute subword n-grams (maxn > 0)")
        return cls(model.words, model.labels, model.get_input_matrix(), model.get_output_matrix(),
                   args.bucket, args.wordNgrams, hashes)

    def positive(self, code_points: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Probability of ``__label__1`` for each prepared text, given as `code_points` (every
        text's characters one after the other, text.character_codes) and each text's length, as
        fastText reports it; NaN for an empty text (fastText predicts nothing for it)."""
        result = np.full(len(lengths), np.nan)
        present = lengths > 0
        if present.any():
            hidden = self._hidden(code_points, lengths[present])
            result[present] = self._report(hidden @ self.output.T)
        return result

    def _hidden(self, code_points: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Mean input row per text: its characters, </s>, and the 2-/3-grams over both."""
        n_texts = len(lengths)
        tokens = lengths + 1  # each text's characters and its </s>
        ends = np.cumsum(tokens) - 1  # the position of each text's </s>
        doc = np.repeat(np.arange(n_texts), tokens)
        is_char = np.ones(len(doc), dtype=bool)
        is_char[ends] = False
        hashes = np.empty(len(doc), dtype=np.uint64)
        hashes[is_char] = self.hashes[code_points]
        hashes[ends] = self.eos_hash
        rows = np.empty(len(doc), dtype=np.int64)
        rows[is_char] = self.row_of[code_points]
        rows[ends] = self.eos_row
        known = rows >= 0
        all_rows, all_docs = [rows[known]], [doc[known]]
        gram = hashes
        for n in range(2, WORD_NGRAMS + 1):
            gram = gram[:-1] * NGRAM_MULTIPLIER + hashes[n - 1:]
            same = doc[: len(gram)] == doc[n - 1:]
            all_rows.append(self.nwords + (gram[same] % self.bucket).astype(np.int64))
            all_docs.append(doc[: len(gram)][same])
        used = np.concatenate(all_rows)
        owner = np.concatenate(all_docs)
        counts = np.bincount(owner, minlength=n_texts)
        sums = np.stack([np.bincount(owner, weights=column[used], minlength=n_texts)
                         for column in self.columns], axis=1)
        return sums / counts[:, None]

    def _report(self, scores: np.ndarray) -> np.ndarray:
        """fastText's softmax and its top-1 report, as the positive label's probability."""
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = shifted / shifted.sum(axis=1, keepdims=True)
        top = probs.argmax(axis=1)
        reported = np.minimum(probs[np.arange(len(top)), top] + FASTTEXT_LOG_EPS, 1.0)
        return np.where(top == self.positive_row, reported, 1.0 - reported)
