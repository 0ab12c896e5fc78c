"""fastText's own input features, computed in numpy: what a linear model must be trained on to be
folded into a fastText model file (folding.py).

For one prepared line (``text.tokens``: one token per character), fastText's supervised model
looks up these input rows and averages them:

- each token found in the model's vocabulary (its row index in the dictionary), and the ``</s>``
  token that ends every line;
- every word 2- and 3-gram over the tokens **and** ``</s>``, hashed into ``bucket`` rows after the
  vocabulary (vocabulary size + hash % bucket); out-of-vocabulary tokens still take part in them.

The hashes reproduce fastText 0.9.2 (``Dictionary::hash``, ``addWordNgrams``): 32-bit FNV-1a over
the UTF-8 bytes, each byte sign-extended as a C ``int8_t``; the token hashes are stored as
``int32_t`` and sign-extended to 64 bits; an n-gram's hash is ``h * 116049371 + next`` in wrapping
64-bit arithmetic. ``Featurizer.counts`` returns, per text, how often each row is used, so that
``counts / counts.sum(axis=1)`` is exactly the averaging fastText does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

from services.sentiment.model.text import tokens

EOS = "</s>"
NGRAM_MULTIPLIER = np.uint64(116049371)
WORD_NGRAMS = 3
FASTTEXT_WHITESPACE = " \n\r\t\v\f\0"


def fasttext_hash(token: str) -> int:
    """fastText's ``Dictionary::hash`` of one token (uint32)."""
    h = 2166136261
    for byte in token.encode("utf-8"):
        signed = byte - 256 if byte > 127 else byte
        h = ((h ^ (signed & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return h


def _as_int64_hash(h: int) -> int:
    """The uint32 hash stored as int32 and read back as uint64 (two's complement)."""
    return (h - (1 << 32) if h >= (1 << 31) else h) & 0xFFFFFFFFFFFFFFFF


def split_tokens(line: str) -> list[str]:
    """The tokens fastText reads from `line` (whitespace as in ``Dictionary::readWord``)."""
    for char in FASTTEXT_WHITESPACE[1:]:
        if char in line:
            line = line.replace(char, " ")
    return [token for token in line.split(" ") if token]


class Featurizer:
    """Row ids of fastText's input matrix for texts, given the model's vocabulary and bucket."""

    def __init__(self, vocabulary: Sequence[str], bucket: int) -> None:
        self.vocabulary = list(vocabulary)
        self.bucket = bucket
        self.word_id = {word: i for i, word in enumerate(self.vocabulary)}
        if EOS not in self.word_id:
            raise ValueError("the vocabulary must hold </s> (fastText adds it to every model)")
        self.dimension = len(self.vocabulary) + bucket
        self._hash_cache: dict[str, int] = {}

    def _hash(self, token: str) -> int:
        cached = self._hash_cache.get(token)
        if cached is None:
            cached = self._hash_cache[token] = _as_int64_hash(fasttext_hash(token))
        return cached

    def ngram_row(self, words: Sequence[str]) -> int:
        """The input row of the word n-gram `words` (2 to WORD_NGRAMS tokens)."""
        if not 2 <= len(words) <= WORD_NGRAMS:
            raise ValueError(f"an n-gram has 2 to {WORD_NGRAMS} tokens")
        h = self._hash(words[0])
        for word in words[1:]:
            h = (h * int(NGRAM_MULTIPLIER) + self._hash(word)) & 0xFFFFFFFFFFFFFFFF
        return len(self.vocabulary) + h % self.bucket

    def ids(self, text: str) -> np.ndarray:
        """Input-matrix rows fastText uses for `text` (raw text; prepared here)."""
        row = self.counts([text])
        return row.indices.astype(np.int64).repeat(row.data.astype(np.int64))

    def counts(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """A (texts x dimension) matrix: how often each input row is used for each text."""
        return self.counts_of_lines([tokens(text) for text in texts])

    def counts_of_lines(self, lines: Iterable[str]) -> sparse.csr_matrix:
        """As `counts`, for lines already prepared by ``text.tokens``."""
        unigram_rows: list[int] = []
        unigram_docs: list[int] = []
        hashes: list[int] = []
        doc_of_hash: list[int] = []
        n_docs = 0
        for doc, line in enumerate(lines):
            n_docs = doc + 1
            words = split_tokens(line)
            if not words:
                continue  # fastText predicts nothing for an empty line
            words.append(EOS)
            for word in words:
                wid = self.word_id.get(word)
                if wid is not None:
                    unigram_rows.append(wid)
                    unigram_docs.append(doc)
                hashes.append(self._hash(word))
                doc_of_hash.append(doc)
        h = np.asarray(hashes, dtype=np.uint64)
        docs = np.asarray(doc_of_hash, dtype=np.int64)
        rows = [np.asarray(unigram_rows, dtype=np.int64)]
        row_docs = [np.asarray(unigram_docs, dtype=np.int64)]
        gram = h.copy()
        for n in range(2, WORD_NGRAMS + 1):
            # gram[i] covers tokens i .. i+n-1; valid where they all belong to one text
            gram = gram[:-1] * NGRAM_MULTIPLIER + h[n - 1:]
            same = docs[: len(gram)] == docs[n - 1:]
            buckets = (gram[same] % np.uint64(self.bucket)).astype(np.int64)
            rows.append(len(self.vocabulary) + buckets)
            row_docs.append(docs[: len(gram)][same])
        all_rows = np.concatenate(rows)
        all_docs = np.concatenate(row_docs)
        data = np.ones(len(all_rows), dtype=np.float64)
        matrix = sparse.csr_matrix((data, (all_docs, all_rows)), shape=(n_docs, self.dimension))
        matrix.sum_duplicates()
        return matrix


def averaged(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each row divided by its total (fastText averages its input rows); empty rows stay 0."""
    totals = np.asarray(counts.sum(axis=1)).ravel()
    scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    return sparse.diags(scale) @ counts
