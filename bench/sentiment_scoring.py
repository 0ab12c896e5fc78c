"""Scoring throughput of the shipped sentiment model on one core.

    python -m bench.sentiment_scoring [--model PATH ...]   # several models side by side

`measure_scoring()` is also called by `make bench-sentiment` (bench/sentiment.py); the measurement
itself lives beside the model (services/sentiment/model/throughput.py) so that
`python -m services.sentiment.model.evaluate` reports it too.
"""

from __future__ import annotations

from services.sentiment.model.throughput import main, measure_scoring

__all__ = ["measure_scoring"]

if __name__ == "__main__":
    main()
